"""The :class:`Analysis` result: everything a report, a table export or a caller needs.

All tables are tidy pandas DataFrames with fixed snake_case columns (``RESULT_COLUMNS``); display
names live in :data:`DISPLAY_NAMES` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .scales import Scale

#: Columns of :attr:`Analysis.results` (one row per estimate).
RESULT_COLUMNS: list[str] = [
    "section",           # agreement | ceiling | baseline | comparison
    "judge",             # judge name, human annotator id, baseline name, or "judge_a vs judge_b"
    "rater_kind",        # judge | human | baseline | comparison
    "reference",         # what the candidate is compared with, e.g. "majority(humans)" or "majority(humans-h2)"
    "metric",            # snake_case metric name, e.g. cohen_kappa_quadratic
    "level",             # item | dataset | group | system (correlations); item for everything else
    "slice",             # "all" or "column=value"
    "estimate", "ci_low", "ci_high", "confidence_level", "n", "method", "note",
    "p_value", "p_adjusted",
    "probe",             # bias probe family (position, length, self_preference, leniency, system) or ""
]

#: Columns of :attr:`Analysis.coverage` (one row per source: the gold set and each judge).
COVERAGE_COLUMNS: list[str] = [
    "source", "kind", "path", "rows", "items", "matched_items", "missing_in_gold", "missing_in_judge",
    "duplicate_rows", "unparseable", "out_of_scale", "missing_label", "excluded_rows", "fallback_rows",
    "reference_undefined",
]

#: Columns of :attr:`Analysis.problems` (examples of rows that were counted as problems).
PROBLEM_COLUMNS: list[str] = ["source", "problem", "item_id", "row", "raw"]

DISPLAY_NAMES: dict[str, str] = {
    "percent_agreement": "Percent agreement",
    "cohen_kappa": "Cohen's κ",
    "cohen_kappa_linear": "Cohen's κ (linear)",
    "cohen_kappa_quadratic": "Cohen's κ (quadratic)",
    "scott_pi": "Scott's π",
    "gwet_ac1": "Gwet's AC1",
    "gwet_ac2_linear": "Gwet's AC2 (linear)",
    "gwet_ac2_quadratic": "Gwet's AC2 (quadratic)",
    "pabak": "PABAK",
    "fleiss_kappa": "Fleiss' κ",
    "krippendorff_alpha_nominal": "Krippendorff's α (nominal)",
    "krippendorff_alpha_ordinal": "Krippendorff's α (ordinal)",
    "krippendorff_alpha_interval": "Krippendorff's α (interval)",
    "krippendorff_alpha_ratio": "Krippendorff's α (ratio)",
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "precision": "Precision",
    "recall": "Recall",
    "f1": "F1",
    "mcc": "MCC",
    "tpr": "TPR",
    "tnr": "TNR",
    "youden_j": "Youden's J",
    "pearson": "Pearson r",
    "spearman": "Spearman ρ",
    "kendall_tau": "Kendall τ-b",
    "kendall_tau_c": "Kendall τ-c",
    "mean_difference": "Mean difference",
    # bias probes
    "position_consistency": "Position consistency",
    "preference_fairness": "Preference fairness",
    "first_position_rate": "First-position rate",
    "first_position_excess": "First-position excess (judge − human)",
    "flip_rate": "Flip rate",
    "both_order_accuracy": "Both-order accuracy",
    "repetition_stability": "Repetition stability",
    "prefer_longer_rate": "Prefer-longer rate",
    "prefer_longer_excess": "Prefer-longer excess (judge − human)",
    "length_coef": "Δ log-length coefficient",
    "length_odds_ratio": "Δ log-length odds ratio",
    "length_controlled_win_rate": "Length-controlled win rate",
    "win_rate_a": "Win rate of response A",
    "self_preference_eo": "Self-preference (equal opportunity)",
    "self_preference_inflation": "Self-preference win-rate inflation",
    "self_preference_did": "Self-preference (difference in differences)",
    "self_rank_difference": "Self-rank difference (judge − human)",
    "self_preference_eo_peer_adjusted": "Self-preference (equal opportunity, peer-adjusted)",
    "self_preference_inflation_peer_adjusted": "Self-preference win-rate inflation (peer-adjusted)",
    "self_preference_did_peer_adjusted": "Self-preference (difference in differences, peer-adjusted)",
    "self_rank_difference_peer_adjusted": "Self-rank difference (peer-adjusted)",
    "leniency_shift": "Leniency shift (judge − human)",
    "leniency_p_plus": "P₊ (lenient guess rate)",
    "p_c": "P_c (probability of a correct judgement)",
    "fpr": "FPR",
    "fnr": "FNR",
    "bland_altman_lower": "Bland–Altman lower limit",
    "bland_altman_upper": "Bland–Altman upper limit",
    "stuart_maxwell": "Stuart–Maxwell χ²",
    "tie_rate": "Tie rate",
    "tie_rate_difference": "Tie-rate difference (judge − human)",
    "system_rank_spearman": "System ranking Spearman ρ",
    "system_rank_kendall": "System ranking Kendall τ",
    "system_deviation": "System score deviation |judge − human|",
}


def display_name(metric: str) -> str:
    """Pretty name of a metric for reports and LaTeX; the snake_case name if unknown."""
    return DISPLAY_NAMES.get(metric, metric)


@dataclass
class Analysis:
    """Result of :func:`metajudge.analyze`.

    Attributes
    ----------
    results : DataFrame
        Every estimate, tidy, with :data:`RESULT_COLUMNS`.
    coverage : DataFrame
        One row per source with :data:`COVERAGE_COLUMNS`.
    problems : DataFrame
        Up to a few example rows per (source, problem) with :data:`PROBLEM_COLUMNS`; ``raw`` is the
        untrusted raw text (judge output) and must be escaped when displayed.
    confusion : dict
        judge name -> DataFrame of counts, index = reference levels, columns = judge levels, both in the
        declared order (categorical scales only).
    scale : Scale
    config : dict
        The resolved configuration (JSON-serialisable).
    provenance : dict
        ``versions`` (package -> version), ``inputs`` (path -> sha256), ``seed``, ``created_by``.
    notes : list of str
        Analysis-level notes (e.g. "nominal levels inferred from data").
    """

    results: pd.DataFrame
    coverage: pd.DataFrame
    problems: pd.DataFrame
    confusion: dict[str, pd.DataFrame]
    scale: Scale
    config: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    title: str = "metajudge report"
    extra: dict[str, Any] = field(default_factory=dict)
    probes: list[Any] = field(default_factory=list)  # metajudge.probes.ProbeResult, one per probe that ran

    @property
    def probe_results(self) -> pd.DataFrame:
        return self.section("probe")

    def section(self, name: str) -> pd.DataFrame:
        return self.results[self.results["section"] == name].reset_index(drop=True)

    @property
    def agreement(self) -> pd.DataFrame:
        return self.section("agreement")

    @property
    def ceiling(self) -> pd.DataFrame:
        return self.section("ceiling")

    @property
    def baselines(self) -> pd.DataFrame:
        return self.section("baseline")

    @property
    def comparisons(self) -> pd.DataFrame:
        return self.section("comparison")
