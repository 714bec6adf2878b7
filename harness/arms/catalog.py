"""Every arm type a run can build: the built-in ones (prompted, rag, finetune), which register themselves when
their modules are imported. Kept apart from the contract in __init__.py, which the arm modules import: the
package never imports its own arms, so there is no import cycle.
"""

from __future__ import annotations

from typing import Any

from harness.arms import ARMS, ArmBase
from harness.errors import HarnessError, did_you_mean


def load_builtin() -> None:
    """Import the built-in arm modules, which registers them."""
    from harness.arms import finetune, prompted, rag  # noqa: F401


def build_arm(spec: Any) -> ArmBase:
    load_builtin()
    if spec.type not in ARMS:
        raise HarnessError(f"arm {spec.name!r}: unknown arm type {spec.type!r}; {did_you_mean(spec.type, list(ARMS))}")
    return ARMS[spec.type](spec)
