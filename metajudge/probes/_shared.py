"""Helpers shared by the length, leniency and system probes: reference naming, score values, item
bootstrap of additive statistics, paired ratio rows with item-clustered standard errors."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..metrics.bootstrap import bootstrap_stats, percentile_interval
from .base import ProbeUnavailable, estimate, probe_row

def ref_name(table: Any) -> str:
    """Name of the human reference, as the agreement analysis names it."""
    if len(table.humans) > 1:
        return f"{table.aggregate}(humans)"
    return table.humans[0] if table.humans else "gold"


def pairwise_codes(scale: Any) -> tuple[int, int, int | None]:
    """Item-frame codes (A, B, tie) of a pairwise scale: levels are (A, tie, B) or (A, B)."""
    k = scale.n_levels
    return 0, k - 1, (1 if k == 3 else None)


def score_values(scale: Any, codes: np.ndarray) -> np.ndarray:
    """Numeric scores of codes: the number (interval), the level value (ordinal: the number itself when every
    level is numeric, else its rank), 1/0 for the positive class (binary). Nominal scales have no scores."""
    c = np.asarray(codes, dtype=float)
    if scale.kind == "interval":
        return c
    if scale.kind == "binary":
        return np.where(np.isnan(c), np.nan, (c == scale.positive_index).astype(float))
    if scale.kind == "ordinal":
        vals = scale.level_values()
        out = np.full(c.shape, np.nan)
        ok = ~np.isnan(c)
        out[ok] = vals[c[ok].astype(int)]
        return out
    raise ProbeUnavailable(f"a {scale.kind} scale has no numeric scores; this probe needs an ordinal, interval "
                           "or binary scale.")


def boot_sums(stats: np.ndarray, n_resamples: int, rng: np.random.Generator,
              strata: np.ndarray | None = None) -> np.ndarray:
    """Item-bootstrap replicates of the column sums of per-item statistics ``stats`` (n_items, D).

    Each replicate resamples items with replacement (whole items: every statistic of an item moves together);
    with ``strata`` (one label per item) items are resampled within their stratum, so every stratum keeps its
    size. Uses the pattern-compressed multinomial draw of :mod:`metajudge.metrics.bootstrap`: memory
    O(n_resamples · D), never (n_resamples, n_items).
    """
    stats = np.asarray(stats, dtype=float)
    if stats.ndim == 1:
        stats = stats[:, None]
    if n_resamples <= 0 or stats.shape[0] == 0:
        return np.zeros((max(n_resamples, 0), stats.shape[1]))
    if strata is None:
        return bootstrap_stats(stats, n_resamples, rng)
    strata = np.asarray(strata)
    out = np.zeros((n_resamples, stats.shape[1]))
    for s in pd.unique(strata):
        out += bootstrap_stats(stats[strata == s], n_resamples, rng)
    return out


def interval(reps: np.ndarray, confidence_level: float) -> tuple[float, float, str]:
    """Percentile interval of bootstrap replicates and a note on undefined replicates ('' when none)."""
    lo, hi, bad = percentile_interval(reps, confidence_level)
    return lo, hi, (f"{bad} of {len(reps)} bootstrap replicates undefined" if bad else "")


def join_notes(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _wald_p(est: float, se: float, null: float = 0.0) -> float:
    if not (math.isfinite(est) and math.isfinite(se)) or se <= 0:
        return math.nan
    return float(2 * sps.norm.sf(abs(est - null) / se))


def ratio_se(num: np.ndarray, den: np.ndarray) -> float:
    """Item-clustered (delta-method) standard error of the ratio of sums ``Σ num / Σ den``."""
    n = len(num)
    if n < 2 or den.sum() <= 0:
        return math.nan
    r = num.sum() / den.sum()
    u = (num - r * den) / den.mean()
    return float(math.sqrt(n / (n - 1) * np.sum(u ** 2)) / n)


def paired_ratio_rows(
    judge: str, metric_rate: str, metric_diff: str, a: np.ndarray, m: np.ndarray, b: np.ndarray, k: np.ndarray,
    *, probe: str, reference: str, confidence_level: float, n_resamples: int, rng: np.random.Generator,
    null_rate: float | None, slice_: str = "all", note_rate: str = "", note_human: str = "",
) -> list[dict[str, Any]]:
    """Rows for a judge rate ``Σa/Σm``, the human rate ``Σb/Σk`` on the same items and their difference.

    The CI of each is an item bootstrap with the same resampled items for both (paired); p-values are Wald tests
    with item-clustered delta-method standard errors (the judge rate against ``null_rate`` when given).
    """
    n = len(a)
    cl = confidence_level
    rj, rh = a.sum() / m.sum(), b.sum() / k.sum()
    sums = boot_sums(np.column_stack([a, m, b, k]), n_resamples, rng)
    with np.errstate(invalid="ignore", divide="ignore"):
        rep_j, rep_h = sums[:, 0] / sums[:, 1], sums[:, 2] / sums[:, 3]
    se_j, se_h = ratio_se(a, m), ratio_se(b, k)
    # the difference of two ratios: influence u_i = (a_i - rj m_i)/m̄ - (b_i - rh k_i)/k̄
    u = (a - rj * m) / m.mean() - (b - rh * k) / k.mean()
    se_d = float(math.sqrt(n / (n - 1) * np.sum(u ** 2)) / n) if n > 1 else math.nan
    method = "bootstrap-cluster" if n_resamples > 0 else "none"
    out = []
    lo, hi, nb = interval(rep_j, cl)
    out.append(probe_row(probe, judge, estimate(metric_rate, rj, lo, hi, n=n, confidence_level=cl, method=method,
                                                note=join_notes(note_rate, nb)),
                         reference=reference, slice_=slice_,
                         p_value=_wald_p(rj, se_j, null_rate) if null_rate is not None else math.nan))
    lo, hi, nb = interval(rep_h, cl)
    out.append(probe_row(probe, "humans", estimate(metric_rate, rh, lo, hi, n=n, confidence_level=cl,
                                                   method=method, note=join_notes(note_human, nb)),
                         rater_kind="human", reference=judge, slice_=slice_,
                         p_value=_wald_p(rh, se_h, null_rate) if null_rate is not None else math.nan))
    lo, hi, nb = interval(rep_j - rep_h, cl)
    out.append(probe_row(probe, judge, estimate(metric_diff, rj - rh, lo, hi, n=n, confidence_level=cl,
                                                method="paired-bootstrap" if n_resamples > 0 else method,
                                                note=join_notes("p: Wald test, item-clustered SE", nb)),
                         reference=reference, slice_=slice_, p_value=_wald_p(rj - rh, se_d)))
    return out


def quantile_bins(x: np.ndarray, n_bins: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(bin index of each value, bin centres) for quantile bins of ``x`` (fewer bins when values repeat)."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return np.zeros(0, dtype=int), np.zeros(0)
    edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)))
    if edges.size < 2:
        return np.zeros(x.size, dtype=int), np.array([edges[0]])
    idx = np.searchsorted(edges[1:-1], x, side="right")
    return idx, (edges[:-1] + edges[1:]) / 2


# ------------------------------------------------------------------------------------------ features
def item_column(table: Any, col: str) -> pd.Series | None:
    attrs = table.item_attrs
    if attrs is not None and col in attrs.columns and attrs[col].notna().any():
        return attrs[col]
    if col in table.data.columns and table.data[col].notna().any():
        d = table.data[["item_id", col]].dropna()
        return d.groupby("item_id", sort=True)[col].first()
    return None


