"""Registry of public gold sets (human labels with LLM-judge outputs) and their adapters.

>>> from metajudge.goldsets import registry
>>> "mt_bench_human" in registry()
True
"""

from .base import (GoldSet, GoldSetError, GoldSetSpec, card_text, get_spec, load_gold_set, register, registry,
                   resolve_dir, run_gold_set)

__all__ = ["GoldSet", "GoldSetError", "GoldSetSpec", "card_text", "get_spec", "load_gold_set", "register",
           "registry", "resolve_dir", "run_gold_set"]
