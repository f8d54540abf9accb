"""Imports every adapter module so that each registers its gold set."""

from . import cobbler, hanna, judgebench, llmbar, mt_bench, shi2024, summeval, topical_chat, trec  # noqa: F401
