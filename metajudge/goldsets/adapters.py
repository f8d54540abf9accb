"""Imports every adapter module so that each registers its gold set."""

from . import mt_bench, shi2024, topical_chat  # noqa: F401
