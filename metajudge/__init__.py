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

__version__ = "0.1.0"

__all__ = [
    "AlignmentError", "ConfigError", "Estimate", "InputError", "MetajudgeError", "MetricInputError", "Scale",
    "ScaleError", "UndefinedMetricWarning", "__version__", "classification_metrics", "cohen_kappa",
    "correlation_levels", "fleiss_kappa", "gwet_ac1", "kendall_tau", "krippendorff_alpha", "pabak", "pearson",
    "percent_agreement", "scott_pi", "spearman", "table_estimates",
]
