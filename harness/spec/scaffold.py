"""`harness init NAME`: a new task file with comments, a data folder with a few rows to replace, a data card.

    harness init invoices && harness validate tasks/invoices.yaml
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from harness.errors import HarnessError
from harness.spec import NAME

TASK_TEMPLATE = """\
# {name}: what goes in, what comes out, and why it matters. Data card: {name}/DATA_CARD.md
#   harness validate tasks/{name}.yaml      # schema, duplicates, leakage, labels, lengths
#   harness run tasks/{name}.yaml
name: {name}
version: 1
description: Replace with one sentence on the task.

data:
  format: chat                  # or: fields, with  fields: {{input: text, target: label, id: id}}
  train: {name}/data/train.jsonl
  validation: {name}/data/validation.jsonl   # the sweep picks hyperparameters here
  test: {name}/data/test.jsonl               # touched once per arm; never used to choose anything
  # or one file split by a seeded, stratified rule:
  # file: {name}/data/all.jsonl
  # split: {{validation: 0.1, test: 0.2, seed: 0}}

output:
  type: text                    # json (with fields: [...]) | label (with labels: [...]) | text

prompt:
  system: You are a careful assistant.          # every arm
  instructions: Answer in one short sentence.   # prompted and RAG arms; tuned arms learn this

model:
  base: HuggingFaceTB/SmolLM2-135M-Instruct    # a hub id or a local folder of safetensors weights

generation:
  max_new_tokens: 64
  batch_size: 16

metrics: [rouge_l, exact_match]   # label tasks: accuracy, macro_f1; json tasks: json_valid, json_field_f1, ...

arms:
  - name: zero_shot
    type: prompted
  - name: few_shot
    type: prompted
    shots: 1
  # - name: rag                   # needs a corpus: section
  #   type: rag
  #   retriever: hybrid
  # - name: lora
  #   type: lora
  #   sweep:
  #     trials: 4
  #     space:
  #       learning_rate: {{low: 1.0e-4, high: 1.0e-3, log: true}}
  #       r: [8, 16]

# corpus:
#   path: {name}/corpus            # a folder of .txt/.md files, or a JSONL of {{id, text, title}}

decision:
  primary_metric: rouge_l
  min_lift: 0.02                  # the smallest gain worth a fine-tuning project
  confidence: 0.95
"""

CARD_TEMPLATE = """\
# Data card: `{name}`

## What it is
Where the examples come from, who wrote the answers, and what a good answer is.

## Files
| file | rows | content |
|---|---|---|
| `data/train.jsonl` | | |
| `data/validation.jsonl` | | |
| `data/test.jsonl` | | |

## Fields and labelling rules

## Known limitations and biases

## Licence
"""

PLACEHOLDERS = {
    "train": [("Replace this with a real input, for example a customer question.", "Replace with its answer."),
              ("A second training input, different from the first.", "Its answer."),
              ("A third training input about something else entirely.", "Another answer.")],
    "validation": [("A validation input that is not a copy of any training input.", "Its answer.")],
    "test": [("A held-out test input, never used to choose anything.", "Its answer.")],
}


def scaffold(name: str, tasks_dir: Path) -> list[Path]:
    if not re.match(NAME, name):  # the rule a task file's own name: field must pass
        raise HarnessError(f"task name {name!r}: use lowercase letters, digits, '_' and '-'")
    spec_path = tasks_dir / f"{name}.yaml"
    folder = tasks_dir / name
    for path in (spec_path, folder):
        if path.exists():
            raise HarnessError(f"{path} already exists; choose another name or remove it")
    try:
        return _write(name, spec_path, folder)
    except BaseException:  # nothing half-written: a second `init` must not find a broken task in the way
        spec_path.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _write(name: str, spec_path: Path, folder: Path) -> list[Path]:
    written = []
    for split, rows in PLACEHOLDERS.items():
        path = folder / "data" / f"{split}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps({"id": f"{split}-{i + 1}", "messages": [{"role": "user", "content": q},
                                                                    {"role": "assistant", "content": a}]})
                 for i, (q, a) in enumerate(rows)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    card = folder / "DATA_CARD.md"
    card.write_text(CARD_TEMPLATE.format(name=name), encoding="utf-8")
    spec_path.write_text(TASK_TEMPLATE.format(name=name), encoding="utf-8")
    return [spec_path, card, *written]
