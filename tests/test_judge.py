"""LLM-judged metrics through ragas against a real local OpenAI-compatible server playing the judge."""

from __future__ import annotations

import json
import re

import duckdb

from harness.cli import main
from tests.conftest import write_jsonl, write_tiny_task
from tests.openai_server import serve


def scripted_judge(messages: list[dict], max_tokens: int) -> tuple[str, int, int]:
    """Answers each ragas prompt with JSON of the schema it asks for; fails on purpose for JUDGE-FAIL."""
    system, user = messages[0]["content"], messages[-1]["content"]
    if "json_schema" not in system:  # asked as the answering model, not as the judge
        return "Either side may end the agreement with notice." + (" JUDGE-FAIL" if "JUDGE-FAIL" in user else ""), 30, 9
    if "JUDGE-FAIL" in user:
        return "this is not JSON", 10, 5
    title = re.search(r'"title": "(\w+Output)"', system).group(1)
    answer = {
        "StatementGeneratorOutput": {"statements": ["The clause allows termination.", "Notice is sixty days."]},
        "NLIStatementOutput": {"statements": [
            {"statement": "The clause allows termination.", "reason": "stated", "verdict": 1},
            {"statement": "Notice is sixty days.", "reason": "not stated", "verdict": 0}]},
        "AnswerRelevanceOutput": {"question": "What does the clause say?", "noncommittal": 0},
        "AnswerAccuracyOutput": {"rating": 2},
    }[title]
    return json.dumps(answer), 50, 20


def test_judge_scores_and_counts_failed_judgments(tmp_path, tiny_model, monkeypatch):
    monkeypatch.setenv("JUDGE_KEY", "judge-secret")
    corpus = write_jsonl(tmp_path / "corpus.jsonl", [
        {"id": "term", "text": "Termination clauses let either party end the agreement with written notice."},
        {"id": "pay", "text": "Payment clauses set when invoices are due."},
        {"id": "conf", "text": "Confidentiality clauses keep shared information secret."},
    ])
    with serve(scripted_judge, api_key="judge-secret") as (url, seen):
        backend = f'backend: {{type: openai, base_url: "{url}", model: m, api_key_env: JUDGE_KEY}}'
        arms = f"""
  - name: zero
    type: prompted
    {backend}
  - name: rag
    type: rag
    retriever: bm25
    top_k: 1
    {backend}
"""
        extra = (f"corpus: {{path: {corpus}}}\n"
                 f"judge: {{base_url: \"{url}\", model: judge, api_key_env: JUDGE_KEY, retries: 1}}\n")
        task = write_tiny_task(tmp_path, tiny_model, arms, n_test=4, extra=extra)
        text = task.read_text().replace("type: json\n  fields: [party, months]", "type: text") \
            .replace("metrics: [json_valid, json_field_f1, json_field_exact_match, exact_match]", "metrics: [rouge_l]") \
            .replace("primary_metric: json_field_f1", "primary_metric: rouge_l")
        task.write_text(text)
        rows = [{"id": f"te{i}", "messages": [
            {"role": "user", "content": f"Summarise termination clause {i}: either party may end it with notice."
                                        + (" JUDGE-FAIL" if i == 3 else "")},
            {"role": "assistant", "content": "Either side can end the agreement with notice."}]} for i in range(4)]
        write_jsonl(tmp_path / "data" / "test.jsonl", rows)
        host = url.split("//")[1].split("/")[0]  # the key goes to the local server because the user says so
        assert main(["run", str(task), "--db", str(tmp_path / "h.duckdb"), "--reports", str(tmp_path / "r"), "--quiet",
                     "--allow-key", f"JUDGE_KEY@{host}"]) == 0
    assert {r["auth"] for r in seen} == {"Bearer judge-secret"}
    con = duckdb.connect(str(tmp_path / "h.duckdb"), read_only=True)
    metrics = {(a, m): (v, n, f) for a, m, v, n, f in con.execute(
        "SELECT arm, metric, value, n, n_failed FROM metrics").fetchall()}
    # the scripted judge supports 1 of 2 statements, rates 2 of 4; te3's judgments fail on every try
    assert metrics[("rag", "faithfulness")] == (0.5, 3, 1)
    assert 0.0 <= metrics[("rag", "answer_relevancy")][0] <= 1.0
    assert metrics[("rag", "judge_accuracy")][0] == 0.5 and metrics[("rag", "judge_accuracy")][1:] == (3, 1)
    assert metrics[("rag", "answer_relevancy")][1:] == (3, 1)
    assert ("zero", "faithfulness") not in metrics  # no retrieved context, nothing to be faithful to
    assert metrics[("zero", "judge_accuracy")][1:] == (3, 1)
    details = json.loads(con.execute("SELECT details_json FROM arms WHERE arm = 'rag'").fetchone()[0])
    failed = {(f["example_id"], f["metric"]) for f in details["judge_failures"]}
    assert failed == {("te3", "faithfulness"), ("te3", "answer_relevancy"), ("te3", "judge_accuracy")}
    stored = " ".join(str(r) for r in con.execute("SELECT * FROM runs").fetchall())
    assert "judge-secret" not in stored  # the key is never written
    con.close()
    report = next((tmp_path / "r").glob("*.html"))
    assert "judge-secret" not in report.read_text()
    from tests.browser import dump_dom

    dom = dump_dom(report)
    assert "judge faithfulness" in dom and "1 judgments failed" in dom
