"""metajudge: judge the judges.

Agreement of LLM judges with human annotators, beyond chance, with honest uncertainty.

>>> import metajudge as mj
>>> e = mj.cohen_kappa(["good", "poor", "fair"], ["good", "fair", "fair"], weights="quadratic",
...                    levels=["poor", "fair", "good"], n_resamples=0)
>>> e.metric, round(e.estimate, 3)
('cohen_kappa_quadratic', 0.667)
"""

from __future__ import annotations

from .errors import (AlignmentError, ConfigError, InputError, MetajudgeError, MetricInputError, ScaleError)
from .estimate import Estimate
from .metrics import (UndefinedMetricWarning, classification_metrics, cohen_kappa, correlation_levels,
                      fleiss_kappa, gwet_ac1, kendall_tau, krippendorff_alpha, pabak, pearson, percent_agreement,
                      scott_pi, spearman, table_estimates)
from .scales import Scale
from .align import AlignedTable, align  # noqa: E402  (binds the function over the submodule name)

__version__ = "0.1.0"

_LAZY = {
    "read": ("metajudge.io", "read_frame"),
    "load_gold": ("metajudge.io", "load_gold"),
    "load_judge": ("metajudge.io", "load_judge"),
    "load_config": ("metajudge.config", "load_config"),
    "analyze": ("metajudge.analysis", "analyze"),
    "Analysis": ("metajudge.results", "Analysis"),
    "run": ("metajudge.pipeline", "run"),
    "run_config": ("metajudge.pipeline", "run_config"),
    "write_report": ("metajudge.report", "write_report"),
    "extract_verdicts": ("metajudge.extract", "extract_verdicts"),
}


def __getattr__(name: str):  # lazy: keeps `import metajudge` light
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'metajudge' has no attribute {name!r}")

__all__ = [
    "AlignmentError", "ConfigError", "Estimate", "InputError", "MetajudgeError", "MetricInputError", "Scale",
    "ScaleError", "UndefinedMetricWarning", "__version__", "classification_metrics", "cohen_kappa",
    "correlation_levels", "fleiss_kappa", "gwet_ac1", "kendall_tau", "krippendorff_alpha", "pabak", "pearson",
    "percent_agreement", "scott_pi", "spearman", "table_estimates", "align", "AlignedTable", *_LAZY,
]
