"""What every section of a task file's schema shares: unknown keys are refused, values are frozen, numbers are
finite (`.inf` and `.nan` are never a setting anyone means), seeds fit every library they seed."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


NAME = r"^[a-z0-9][a-z0-9_\-]*$"
DEFAULT_BASE_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


# numpy, scikit-learn and Optuna's samplers take seeds in [0, 2**32): a larger one fails only when it is used
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
