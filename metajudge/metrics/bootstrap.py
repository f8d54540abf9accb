"""Resampling machinery: seeded item-level (cluster) bootstrap over sufficient statistics.

The bootstrap never touches raw rows. Each item (cluster) is summarised by a vector of additive statistics
(its K×K table, its rating-pattern counts, its moment sums); items with identical vectors are pooled into
patterns, and a bootstrap replicate is a multinomial draw of item counts over the patterns. With one row per
item and a K×K table this is exactly ``Multinomial(n, o)`` over table cells (METRICS.md §3) and costs
O(B·K²); for clustered data (both orders, repeats, several raters) it resamples whole items, as it must.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

RNGLike = int | np.random.Generator | np.random.SeedSequence | None

#: Replicates drawn per block, so memory stays bounded for large pattern sets.
_BLOCK_CELLS = 20_000_000


class UndefinedMetricWarning(RuntimeWarning):
    """A metric is undefined for the given data; the value is NaN and the Estimate's note says why."""


def as_generator(rng: RNGLike) -> np.random.Generator:
    """A NumPy Generator from ``rng``; ``None`` means seed 0 (metajudge results are reproducible by default)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(0 if rng is None else rng)


def compress_patterns(stats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows of ``stats`` (n_items, D) and how many items share each: ``(patterns, counts)``."""
    stats = np.ascontiguousarray(stats)
    if stats.shape[0] == 0:
        return stats, np.zeros(0, dtype=np.int64)
    patterns, counts = np.unique(stats, axis=0, return_counts=True)
    return patterns, counts


def resample_sums(
    patterns: np.ndarray, counts: np.ndarray, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Bootstrap replicates of ``Σ_items stats``: an (n_resamples, D) array.

    Each replicate draws ``n = counts.sum()`` items with replacement, i.e. pattern multiplicities
    ``Multinomial(n, counts / n)``, and returns the summed statistics.
    """
    n = int(counts.sum())
    p_count, d = patterns.shape
    out = np.empty((n_resamples, d))
    if n == 0 or n_resamples == 0:
        out.fill(np.nan)
        return out
    pvals = counts / n
    block = max(1, min(n_resamples, _BLOCK_CELLS // max(1, p_count)))
    pat = patterns.astype(float)
    for start in range(0, n_resamples, block):
        stop = min(n_resamples, start + block)
        w = rng.multinomial(n, pvals, size=stop - start)
        out[start:stop] = w @ pat
    return out


def bootstrap_stats(
    stats: np.ndarray, n_resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Compress ``stats`` (n_items, D) to patterns and draw resampled sums (n_resamples, D)."""
    patterns, counts = compress_patterns(stats)
    return resample_sums(patterns, counts, n_resamples, rng)


def item_weights(n_items: int, n_resamples: int, rng: np.random.Generator, block: int | None = None):
    """Yield blocks of bootstrap item multiplicities, arrays of shape (b, n_items), b ≤ block.

    For statistics that are not additive (ranks), the replicate is evaluated with these weights.
    """
    if block is None:
        block = max(1, min(n_resamples, _BLOCK_CELLS // max(1, n_items)))
    pvals = np.full(n_items, 1.0 / n_items)
    for start in range(0, n_resamples, block):
        stop = min(n_resamples, start + block)
        yield rng.multinomial(n_items, pvals, size=stop - start)


def percentile_interval(
    replicates: np.ndarray, confidence_level: float
) -> tuple[float, float, int]:
    """Percentile bootstrap interval ``(low, high, n_undefined)``; NaN replicates are left out and counted.

    If more than half of the replicates are undefined, the interval is NaN.
    """
    reps = np.asarray(replicates, dtype=float)
    ok = np.isfinite(reps)
    n_bad = int((~ok).sum())
    if reps.size == 0 or ok.sum() < max(2, reps.size / 2):
        return float("nan"), float("nan"), n_bad
    alpha = (1 - confidence_level) / 2
    lo, hi = np.quantile(reps[ok], [alpha, 1 - alpha])
    return float(lo), float(hi), n_bad


def wilson_interval(successes: float, n: float, confidence_level: float) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (statsmodels ``proportion_confint``)."""
    if n <= 0:
        return float("nan"), float("nan")
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(successes, n, alpha=1 - confidence_level, method="wilson")
    return float(lo), float(hi)


def warn_undefined(message: str) -> None:
    warnings.warn(message, UndefinedMetricWarning, stacklevel=3)


def evaluate_replicates(fn: Callable[[np.ndarray], np.ndarray], sums: np.ndarray) -> np.ndarray:
    """Apply a vectorised metric kernel to replicate statistics, silencing 0/0 warnings (NaN is the answer)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(fn(sums), dtype=float)
