"""Shared test configuration: markers live in pyproject.toml; keep this file small."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def speech_cache_dir(tmp_path: Path) -> Path:
    """A private speech cache, so tests never read or fill the user's."""
    return tmp_path / "speech-cache"
