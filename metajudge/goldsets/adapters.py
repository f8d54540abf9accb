"""Imports every adapter module so that each registers its gold set."""

from . import judgebench, llmbar, mt_bench, shi2024, topical_chat  # noqa: F401
