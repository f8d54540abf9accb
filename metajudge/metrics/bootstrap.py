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


#: Odd 64-bit multipliers of the row hash in :func:`compress_patterns` (fixed, so runs are reproducible).
_HASH_MULT = np.random.default_rng(20240611).integers(1, 2**63 - 1, size=4096, dtype=np.int64).astype(np.uint64) | 1


def compress_patterns(stats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows of ``stats`` (n_items, D) and how many items share each: ``(patterns, counts)``.

    The order of the patterns is canonical (it depends on the rows' contents only, never on the item order, so
    a permutation of the items gives the same bootstrap draws): below 256 rows, or for data the hash does not
    cover, the lexicographic order of ``np.unique(stats, axis=0)``; otherwise the order of a 64-bit hash of each
    row's bytes. Hashing costs one pass and a 1-D sort instead of a sort of D-wide records (tens of times
    faster for the wide statistics of the ceiling and the comparisons). Every row is then checked against its
    pattern, and the exact ``np.unique`` is used if two different rows ever share a hash, so no result depends
    on the hash being collision-free.

    >>> p, c = compress_patterns(np.array([[1., 0.], [0., 2.], [1., 0.]]))
    >>> p.tolist(), c.tolist()
    ([[0.0, 2.0], [1.0, 0.0]], [1, 2])
    """
    stats = np.ascontiguousarray(stats)
    if stats.shape[0] == 0:
        return stats, np.zeros(0, dtype=np.int64)
    n = stats.shape[0]
    if (stats.ndim != 2 or n < 256 or stats.shape[1] == 0 or stats.dtype.itemsize != 8
            or stats.dtype.kind not in "fiu" or stats.shape[1] > _HASH_MULT.size
            or (stats.dtype.kind == "f" and not np.isfinite(stats).all())):
        patterns, counts = np.unique(stats, axis=0, return_counts=True)
        return patterns, counts
    h = np.empty(n, dtype=np.uint64)
    mult = _HASH_MULT[: stats.shape[1]]
    step = max(1, (1 << 19) // stats.shape[1])  # row blocks of ~4 MB: the temporaries stay in cache
    with np.errstate(over="ignore"):
        for start in range(0, n, step):
            block = stats[start:start + step]
            words = block.astype(np.int64)
            hb = words.view(np.uint64) @ mult
            if block.dtype.kind == "f":
                frac = ~(words == block).all(axis=1)
                if frac.any():
                    # rows that are not whole numbers: hash their bytes, folding the high bits (where small
                    # floats differ) down; the choice depends on the row alone, so equal rows hash equally
                    w = (block[frac] + 0).view(np.uint64)  # + 0 turns -0.0 into 0.0
                    w = (w ^ (w >> np.uint64(32))) * np.uint64(0x9E3779B97F4A7C15)
                    hb[frac] = w @ mult
            h[start:start + step] = hb
        h ^= h >> np.uint64(31)
    canon = stats
    _, first, inverse, counts = np.unique(h, return_index=True, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    patterns = canon[first]
    later = np.ones(n, dtype=bool)
    later[first] = False  # rows that are not the representative of their hash: must equal it
    rows = np.flatnonzero(later)
    for start in range(0, rows.size, 65536):
        part = rows[start:start + 65536]
        if not np.array_equal(canon[part], patterns[inverse[part]]):  # a collision: exact sort instead
            patterns, counts = np.unique(stats, axis=0, return_counts=True)
            return patterns, counts
    return patterns, counts.astype(np.int64)


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
