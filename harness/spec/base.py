"""What every section of a task file's schema shares: unknown keys are refused, values are frozen, numbers are
finite (`.inf` and `.nan` are never a setting anyone means), seeds fit every library they seed."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

NAME = r"^[a-z0-9][a-z0-9_\-]*$"
DEFAULT_BASE_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


# numpy, scikit-learn and Optuna's samplers take seeds in [0, 2**32): a larger one fails only when it is used
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]


def no_credentials(value: str) -> str:
    """A model, dataset or metric reference holds no credential: it is stored with the run and named in errors, and
    the hub's token comes from HF_TOKEN or `huggingface-cli login`, never from a task file."""
    from harness.redact import public_url

    if isinstance(value, str) and public_url(value) != value:
        raise ValueError("holds a credential; name the model or data without it: a hub token is read from HF_TOKEN "
                         "or `huggingface-cli login`")
    return value


NoCredentials = Annotated[str, AfterValidator(no_credentials)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
