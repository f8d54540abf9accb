"""Shared pytest fixtures (keep this file minimal)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def realdata() -> Path:
    """Path to the read-only public data sets in ``../shared/realdata``; skips the test when absent."""
    path = Path(__file__).resolve().parents[2] / "shared" / "realdata"
    if not path.is_dir():
        pytest.skip(f"real data not found at {path}")
    return path
