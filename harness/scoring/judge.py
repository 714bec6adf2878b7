"""LLM-judged metrics through ragas, against any OpenAI-compatible endpoint named in the task's `judge:`.

    judge: {base_url: "http://127.0.0.1:8000/v1", model: qwen2.5-7b-instruct, api_key_env: JUDGE_KEY}

faithfulness and answer_relevancy score answers given with retrieved context; judge_accuracy scores
free-text answers against the reference. A judgment that fails (unparseable output, timeout, HTTP
error) is retried with backoff, then recorded as failed with its error: it never becomes a zero and is never
dropped silently; the metric's n and failure count say how many were judged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from harness.backends.retry import backoff_s, retry_after_s
from harness.data.examples import Example
from harness.models.loading import resolve
from harness.records import Prediction, chunk_refs
from harness.redact import Scrubber
from harness.spec import JudgeSpec, Task


@dataclass
class Judgments:
    values: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> example id -> value
    failures: list[dict[str, str]] = field(default_factory=list)  # {example_id, metric, error}

    def failed_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for f in self.failures:
            counts[f["metric"]] = counts.get(f["metric"], 0) + 1
        return counts


@dataclass(frozen=True)
class Case:
    example_id: str
    question: str
    answer: str
    reference: str
    contexts: tuple[str, ...] | None  # None: the arm retrieved nothing (no faithfulness to judge)


class Judge:
    def __init__(self, spec: JudgeSpec, embedding_model_path: str, api_key: str | None = None):
        from openai import AsyncOpenAI
        from ragas.embeddings import HuggingFaceEmbeddings
        from ragas.llms import llm_factory
        from ragas.metrics.collections import AnswerAccuracy, AnswerRelevancy, Faithfulness

        key = api_key or "not-needed"
        # ragas retries inside instructor too; our own retry loop below decides what counts as failed
        client = AsyncOpenAI(base_url=spec.base_url, api_key=key, timeout=spec.timeout_s, max_retries=0)
        self.scrub = Scrubber(spec.base_url, api_key)
        llm = llm_factory(spec.model, client=client, temperature=0.0)
        embeddings = HuggingFaceEmbeddings(model=embedding_model_path, device="cpu")
        self.spec = spec
        self.metrics = {
            "faithfulness": Faithfulness(llm=llm),
            "answer_relevancy": AnswerRelevancy(llm=llm, embeddings=embeddings, strictness=1),
            "judge_accuracy": AnswerAccuracy(llm=llm),
        }

    async def _one(self, metric: str, case: Case) -> float:
        scorer = self.metrics[metric]
        if metric == "faithfulness":
            call = scorer.ascore(user_input=case.question, response=case.answer, retrieved_contexts=list(case.contexts or ()))
        elif metric == "answer_relevancy":
            call = scorer.ascore(user_input=case.question, response=case.answer)
        else:
            call = scorer.ascore(user_input=case.question, response=case.answer, reference=case.reference)
        result = await asyncio.wait_for(call, timeout=self.spec.timeout_s)
        value = getattr(result, "value", result)
        if value is None or value != value:
            raise ValueError("the judge returned no score")
        return float(value)

    def judge(self, cases: Sequence[Case], metrics_for: Callable[[Case], list[str]],
              advance: Callable[[int], None] = lambda n: None) -> Judgments:
        out = Judgments()
        semaphore = asyncio.Semaphore(self.spec.concurrency)

        async def attempt(metric: str, case: Case) -> None:
            error = ""
            async with semaphore:
                for attempt in range(self.spec.retries + 1):
                    try:
                        out.values.setdefault(metric, {})[case.example_id] = await self._one(metric, case)
                        return
                    except Exception as exc:  # parse errors, timeouts, HTTP errors: all count as a failed try
                        error = self.scrub(f"{type(exc).__name__}: {exc}")[:500]
                        if attempt < self.spec.retries:
                            await asyncio.sleep(backoff_s(attempt, self.spec.backoff_s, self.spec.max_backoff_s,
                                                          retry_after_s(exc)))
            out.failures.append({"example_id": case.example_id, "metric": metric, "error": error})

        async def main() -> None:
            jobs = []
            for case in cases:
                for metric in metrics_for(case):
                    jobs.append(attempt(metric, case))
            for job in asyncio.as_completed(jobs):
                await job
                advance(1)

        asyncio.run(main())
        return out


def judged_metrics(case: Case, output_type: str) -> list[str]:
    """Faithfulness and relevancy for answers given with retrieved context; accuracy for free-text tasks."""
    chosen = []
    if case.contexts is not None:
        chosen += ["faithfulness", "answer_relevancy"]
    if output_type == "text":
        chosen.append("judge_accuracy")
    return chosen


def make_judge(task: Task) -> Judge | None:
    """The task's judge, or None; its answer-relevancy embeddings use the task's embedding model, and its API key
    is read only if the user allowed it to go to the judge's host."""
    spec = task.spec
    if spec.judge is None:
        return None
    key = task.trust.read_key(spec.judge.api_key_env, spec.judge.base_url) if spec.judge.api_key_env else None
    return Judge(spec.judge, str(resolve(spec.embedding_model).path), key)


def judge_predictions(judge: Judge, examples: Sequence[Example], by_id: dict[str, Prediction],
                      chunk_texts: dict[str, str], output_type: str,
                      tracker: Callable[[str, int], Callable[[int], None]]) -> Judgments:
    """Every judged metric that applies to each test answer (a failed generation is judged as empty)."""
    cases = []
    for ex in examples:
        pred = by_id[ex.id]
        refs = chunk_refs(pred.details)
        contexts = tuple(chunk_texts.get(c.id, "") for c in refs) if refs is not None else None
        cases.append(Case(ex.id, ex.input_text, pred.output if not pred.error else "", ex.target, contexts))
    total = sum(len(judged_metrics(c, output_type)) for c in cases)
    return judge.judge(cases, lambda case: judged_metrics(case, output_type), tracker("judge", total))
