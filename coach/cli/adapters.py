"""The adapters one session runs with, and how optional parts are looked up."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from coach.clock import Clock


def seam(module: str, name: str) -> Callable[..., Any] | None:
    """A plug-in function, or None while its module is not there yet."""
    try:
        return getattr(importlib.import_module(module), name, None)
    except ModuleNotFoundError as error:
        if error.name and module.startswith(error.name):
            return None
        raise


@dataclass
class Adapters:
    clock: Clock
    speaker: Any = None
    sink: Any = None
    source: Any = None
    listener: Any = None
    keys: Any = None
    on_pain: Any = None
    notes: list[str] = field(default_factory=list)   # printed at the start: fallbacks, engine
    spoken: list[str] = field(default_factory=list)  # said before the routine starts
