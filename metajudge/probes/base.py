"""Shared types of the bias probes (METRICS.md §5–6).

A probe is a pure function ``probe(table, *, options, confidence_level, n_resamples, rng) -> ProbeResult`` on an
:class:`~metajudge.align.AlignedTable`. It raises :class:`ProbeUnavailable` when the data cannot support it
(the message names the column or config key that would enable it); :func:`metajudge.probes.run_probes` turns
that into a "could not be measured" line for the report instead of failing the run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MetajudgeError
from ..estimate import Estimate

#: The fixed metric names of probe rows in results.json (issue 3).
PROBE_METRICS: tuple[str, ...] = (
    "position_consistency", "preference_fairness", "first_position_rate", "flip_rate", "both_order_accuracy",
    "repetition_stability", "prefer_longer_rate", "prefer_longer_excess", "length_coef",
    "length_controlled_win_rate", "self_preference_eo", "self_preference_inflation", "leniency_shift",
    "leniency_p_plus", "system_rank_spearman", "system_rank_kendall",
)

#: Further metric names the probes emit beside the fixed ones.
PROBE_EXTRA_METRICS: tuple[str, ...] = (
    "tie_rate", "first_position_excess", "length_odds_ratio", "win_rate_a", "fpr", "fnr", "p_c", "stuart_maxwell",
    "bland_altman_lower", "bland_altman_upper", "tie_rate_difference", "system_deviation", "self_preference_did",
    "self_rank_difference", "self_preference_eo_peer_adjusted", "self_preference_inflation_peer_adjusted",
    "self_preference_did_peer_adjusted", "self_rank_difference_peer_adjusted",
)


class ProbeUnavailable(MetajudgeError):
    """The data cannot support a probe (e.g. no second presentation order, no generator column)."""


@dataclass
class ProbeResult:
    """What one probe measured.

    Attributes
    ----------
    probe : str
        ``position``, ``length``, ``self_preference``, ``leniency`` or ``system``.
    rows : list of dict
        Tidy result rows (see :func:`probe_row`): one per (judge or human, metric).
    counts : dict
        judge -> {count name -> int}: the counts that went into the estimates (e.g. consistent / primacy /
        recency pairs, missing mirrors, unparseable pairs), shown in the report.
    skipped : list of str
        What could not be measured and why (one sentence each).
    frames : dict of str -> DataFrame
        Plot-ready data for the report (documented by each probe).
    description : str
        One paragraph: what was measured, on how many items.
    """

    probe: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    description: str = ""


def probe_row(probe: str, judge: str, e: Estimate, *, rater_kind: str = "judge", reference: str = "",
              p_value: float = math.nan, slice_: str = "all", level: str = "item") -> dict[str, Any]:
    """A result row (RESULT_COLUMNS + ``probe``) for a probe estimate; ``section`` is ``"probe"``."""
    return {"section": "probe", "judge": judge, "rater_kind": rater_kind, "reference": reference,
            "metric": e.metric, "level": level, "slice": slice_, "estimate": e.estimate, "ci_low": e.ci_low,
            "ci_high": e.ci_high, "confidence_level": e.confidence_level, "n": e.n, "method": e.method,
            "note": e.note, "p_value": p_value, "p_adjusted": math.nan, "probe": probe}


def estimate(metric: str, value: float, lo: float = math.nan, hi: float = math.nan, *, n: int,
             confidence_level: float, method: str, note: str = "") -> Estimate:
    """Shorthand for an :class:`Estimate` with float conversion."""
    return Estimate(metric, float(value), float(lo), float(hi), confidence_level, int(n), method, note)


def pairwise_rows(table: Any, judge: str) -> pd.DataFrame:
    """A judge's usable rows of a pairwise table: item_id, order, repeat, shown (0 = first slot, K-1 = second,
    1 = tie on a 3-level scale), value (item frame)."""
    d = table.rows(judge)
    return d[[c for c in ("item_id", "order", "repeat", "shown", "value") if c in d.columns]].copy()


def numeric(series: pd.Series) -> np.ndarray:
    """Float array from a column that may hold strings."""
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
