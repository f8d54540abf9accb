"""Agreement and correlation metrics. Every public function returns an :class:`~metajudge.Estimate`."""

from .agreement import (DEFAULT_TABLE_METRICS, TABLE_METRICS, TableMetric, classification_metrics, cohen_kappa,
                        contingency_table, gwet_ac1, pabak, percent_agreement, scott_pi, table_estimates)
from .bootstrap import UndefinedMetricWarning
from .correlation import correlation, correlation_levels, kendall_tau, pearson, spearman
from .multirater import fleiss_kappa, krippendorff_alpha

#: Registry of the public pairwise metric functions (name -> callable(reference, candidate, **kw)).
PAIR_METRICS = {
    "percent_agreement": percent_agreement,
    "cohen_kappa": cohen_kappa,
    "scott_pi": scott_pi,
    "gwet_ac1": gwet_ac1,
    "pabak": pabak,
    "pearson": pearson,
    "spearman": spearman,
    "kendall_tau": kendall_tau,
}
#: Registry of the multi-rater functions (name -> callable(ratings, **kw)).
MULTI_RATER_METRICS = {"fleiss_kappa": fleiss_kappa, "krippendorff_alpha": krippendorff_alpha}

__all__ = [
    "DEFAULT_TABLE_METRICS", "MULTI_RATER_METRICS", "PAIR_METRICS", "TABLE_METRICS", "TableMetric",
    "UndefinedMetricWarning", "classification_metrics", "cohen_kappa", "contingency_table", "correlation",
    "correlation_levels", "fleiss_kappa", "gwet_ac1", "kendall_tau", "krippendorff_alpha", "pabak", "pearson",
    "percent_agreement", "scott_pi", "spearman", "table_estimates",
]
