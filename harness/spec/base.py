"""What every section of a task file's schema shares: unknown keys are refused, values are frozen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

NAME = r"^[a-z0-9][a-z0-9_\-]*$"
DEFAULT_BASE_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
