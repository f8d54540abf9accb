"""Agreement among several raters with missing values: Krippendorff's α and Fleiss' κ (METRICS.md §2).

Both are functions of per-unit value counts. Units (items) with identical count vectors are pooled into
patterns; the unit bootstrap draws pattern multiplicities from a multinomial, so a replicate costs
O(patterns·K²) however many units there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MetricInputError
from ..estimate import Estimate
from ._inputs import _CHUNK, Codes, encode, join_notes, small_int_codes
from .bootstrap import (RNGLike, as_generator, compress_patterns, evaluate_replicates, percentile_interval,
                        resample_sums, warn_undefined)
from .kernels import _div

ALPHA_LEVELS = ("nominal", "ordinal", "interval", "ratio")
#: Above this many distinct values, interval α uses moment sums and ratio α refuses.
MAX_CATEGORICAL_VALUES = 256


def delta2(level: str, values: np.ndarray, n_c: np.ndarray | None = None) -> np.ndarray:
    """Squared difference function δ²(c, k) of Krippendorff (2011), batched over leading axes of ``n_c``."""
    k = len(values)
    if level == "nominal":
        return (np.arange(k)[:, None] != np.arange(k)[None, :]).astype(float)
    if level == "interval":
        return (values[:, None] - values[None, :]) ** 2
    if level == "ratio":
        s = values[:, None] + values[None, :]
        d = values[:, None] - values[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(s != 0, d / np.where(s != 0, s, 1), 0.0)
        return r**2
    if level == "ordinal":
        assert n_c is not None
        cum = np.cumsum(n_c, axis=-1)
        # δ_ck = Σ_{g=c}^{k} n_g − (n_c + n_k)/2 = cum_k − cum_c + (n_c − n_k)/2
        d = cum[..., None, :] - cum[..., :, None] + (n_c[..., :, None] - n_c[..., None, :]) / 2
        return d**2
    raise MetricInputError(f"level must be one of {ALPHA_LEVELS}; got {level!r}.")


def alpha_from_coincidence(o: np.ndarray, level: str, values: np.ndarray) -> np.ndarray:
    """α = 1 − (n − 1) Σ o_ck δ²_ck / Σ n_c n_k δ²_ck from coincidence matrices ``o`` (..., K, K)."""
    o = np.asarray(o, dtype=float)
    n_c = o.sum(axis=-1)
    n = n_c.sum(axis=-1)
    d = delta2(level, np.asarray(values, dtype=float), n_c)
    num = (o * d).sum(axis=(-2, -1))
    den = np.einsum("...c,...ck,...k->...", n_c, np.broadcast_to(d, o.shape), n_c)
    return 1.0 - (n - 1) * _div(num, den)


def as_matrix(ratings: Any) -> np.ndarray:
    """Items × raters array (object or float) from an ndarray, DataFrame or list of rows."""
    if isinstance(ratings, pd.DataFrame):
        arr = ratings.to_numpy()
        if arr.dtype == object:
            try:
                arr = ratings.to_numpy(dtype=float)
            except (TypeError, ValueError):
                arr = ratings.to_numpy(dtype=object)
    else:
        arr = np.asarray(ratings)
        if arr.dtype == object:
            try:
                arr = arr.astype(float)
            except (TypeError, ValueError):
                pass
    if arr.ndim != 2:
        raise MetricInputError(
            f"ratings must be a 2-D items × raters array (NaN for a missing rating); got shape {arr.shape}."
        )
    return arr


def unit_counts(codes: np.ndarray, k: int) -> np.ndarray:
    """(units, K) counts of each level per unit from an items × raters code matrix with NaN."""
    n_units = codes.shape[0]
    ok = ~np.isnan(codes)
    unit = np.broadcast_to(np.arange(n_units)[:, None], codes.shape)[ok]
    return np.bincount(unit * k + codes[ok].astype(np.int64), minlength=n_units * k).reshape(n_units, k)


def _encode_matrix(arr: np.ndarray, levels: Sequence[Any] | None, need_order: bool, what: str):
    flat = arr.reshape(-1)
    info = encode([flat], levels=levels, need_order=need_order, what=what)
    return info.codes[0].reshape(arr.shape), info


#: Largest key space counted with one bincount (larger ones are sorted instead).
_BINCOUNT_KEYS = 1 << 22


def _rating_digits(arr: np.ndarray, levels: Sequence[Any] | None, need_order: bool, what: str,
                   fast: tuple[np.ndarray, Codes] | None = None, tried: bool = False) -> tuple[np.ndarray, Codes]:
    """Items × raters integer codes ``0..K-1`` with ``K`` for a missing rating, and the level info.

    Whole numbers (the common case) take :func:`small_int_codes` (int16, no per-value classification; pass its
    result as ``fast``, or ``tried=True`` when it gave None); anything else goes through :func:`encode`, so the
    codes and errors are the plain ones either way.
    """
    if fast is None and not tried and arr.dtype.kind in "iuf":
        fast = small_int_codes(arr, levels, what)
    if fast is not None:
        return fast
    codes, info = _encode_matrix(arr, levels, need_order, what)
    dt = np.int16 if info.k < 32767 else np.int64
    return np.where(np.isnan(codes), info.k, codes).astype(dt), info


def _count_patterns(digits: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct per-unit count vectors ``(P, k)`` (int64, rows distinct) and how many units have each.

    Each unit gets an integer key: the tuple of its codes in base K + 1 (key space (K+1)^m, plain integer
    arithmetic; tuples with the same counts are merged afterwards), or its count vector in base m + 1
    ((m+1)^K, through a table of powers) when only that space is small. Keys are histogrammed with one
    bincount when the space is small, else sorted; only when neither space fits 62 bits are the per-unit
    counts built and compressed row-wise.
    """
    n, m = digits.shape
    if n == 0:
        return np.zeros((0, k), dtype=np.int64), np.zeros(0, dtype=np.int64)
    count_space = (m + 1) ** k
    tuple_space = (k + 1) ** m
    small = min(_BINCOUNT_KEYS, max(1 << 16, 4 * n))
    by_tuple = tuple_space <= small or tuple_space <= count_space
    space = tuple_space if by_tuple else count_space
    if space >= 2**62:
        unit = np.repeat(np.arange(n, dtype=np.int64), m)
        flat = np.bincount(unit * (k + 1) + digits.ravel().astype(np.int64), minlength=n * (k + 1))
        patterns, w = np.unique(flat.reshape(n, k + 1)[:, :k], axis=0, return_counts=True)
        return patterns.astype(np.int64), w.astype(np.int64)
    key = np.empty(n, dtype=np.int64)
    step = max(1, _CHUNK // max(m, 1))
    if by_tuple:
        radix = [np.int64((k + 1) ** j) for j in range(m)]
    else:
        table = np.zeros(k + 1, dtype=np.int64)  # the missing code adds nothing
        table[:k] = (m + 1) ** np.arange(k, dtype=np.int64)
    for start in range(0, n, step):
        blk = digits[start:start + step]
        if m == 0:
            kb = np.zeros(blk.shape[0], dtype=np.int64)
        elif by_tuple:
            kb = blk[:, 0].astype(np.int64)
            for j in range(1, m):
                kb += blk[:, j] * radix[j]
        else:
            kb = np.take(table, blk[:, 0])
            for j in range(1, m):
                kb += np.take(table, blk[:, j])
        key[start:start + step] = kb
    if space <= small:
        hist = np.bincount(key, minlength=space)
        keys = np.flatnonzero(hist)
        w = hist[keys].astype(np.int64)
    else:
        keys, w = np.unique(key, return_counts=True)
        w = w.astype(np.int64)
    if not by_tuple:
        patterns = (keys[:, None] // ((m + 1) ** np.arange(k, dtype=np.int64))) % (m + 1)
        return patterns.astype(np.int64), w
    tup = (keys[:, None] // ((k + 1) ** np.arange(m, dtype=np.int64))) % (k + 1)
    p = len(keys)
    counts = np.bincount((np.arange(p, dtype=np.int64)[:, None] * (k + 1) + tup).ravel(),
                         minlength=p * (k + 1)).reshape(p, k + 1)[:, :k]
    if count_space < 2**62:  # merge tuples with equal counts through an integer key (a row sort is slow)
        ckey = counts @ ((m + 1) ** np.arange(k, dtype=np.int64))
        _, first, inv = np.unique(ckey, return_index=True, return_inverse=True)
        patterns = counts[first]
    else:
        patterns, inv = np.unique(counts, axis=0, return_inverse=True)
    w = np.bincount(inv.ravel(), weights=w, minlength=len(patterns)).astype(np.int64)
    return patterns.astype(np.int64), w


def _unit_patterns(digits: np.ndarray, k_levels: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct per-unit count vectors with ``k`` columns (a zero column when there are no levels)."""
    counts, w = _count_patterns(digits, k_levels)
    if counts.shape[1] < k:
        counts = np.zeros((counts.shape[0], k), dtype=np.int64)
    return counts, w


def _canonical_patterns(rows: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``compress_patterns`` of the units that ``rows`` (distinct) with multiplicities ``w`` summarise.

    Equal to ``compress_patterns(np.repeat(rows, w, axis=0))``, patterns in the same order (so the bootstrap
    draws are the same), without building the repeated array: below 256 units it is built (it is small);
    otherwise compress_patterns orders the distinct rows by their hash as it would order the units (repeated
    to 256 rows so it takes its hash path), and the multiplicities are matched to its order.
    """
    n = int(w.sum())
    p = rows.shape[0]
    if n < 256:
        return compress_patterns(np.repeat(rows, w, axis=0))
    if p == 1:
        return rows.copy(), w.astype(np.int64)
    reps = -(-256 // p)
    pat, _ = compress_patterns(np.tile(rows, (reps, 1)) if reps > 1 else rows)
    perm = np.empty(p, dtype=np.intp)
    perm[np.lexsort(pat.T[::-1])] = np.lexsort(rows.T[::-1])
    if pat.shape != rows.shape or not np.array_equal(pat, rows[perm]):  # cannot happen; stay exact if it does
        return compress_patterns(np.repeat(rows, w, axis=0))
    return pat, w[perm].astype(np.int64)


def _pattern_coincidences(patterns: np.ndarray) -> np.ndarray:
    """(P, K, K) coincidence matrices of count patterns: (n_u n_uᵀ − diag n_u)/(m_u − 1)."""
    p = patterns.astype(float)
    m = p.sum(axis=1)
    outer = p[:, :, None] * p[:, None, :]
    idx = np.arange(p.shape[1])
    outer[:, idx, idx] -= p
    return outer / (m - 1)[:, None, None]


def krippendorff_alpha(ratings: Any, *, level: str = "nominal", levels: Sequence[Any] | None = None,
                       confidence_level: float = 0.95, n_resamples: int = 1000, rng: RNGLike = None) -> Estimate:
    """Krippendorff's α for any number of raters, with missing values.

    ``α = 1 − D_o/D_e`` from the coincidence matrix ``o_ck = Σ_u (pairs of values c, k in unit u)/(m_u − 1)``
    with the nominal, ordinal, interval or ratio difference function δ². Units with fewer than two values are
    not pairable: they are left out and counted in ``note``. The interval is a unit (item) bootstrap.

    Parameters
    ----------
    ratings : array-like or DataFrame, shape (items, raters)
        One row per item, one column per rater, NaN (or None) for a missing rating.
        (The ``krippendorff`` package takes the transpose, raters × units.)
    level : {"nominal", "ordinal", "interval", "ratio"}
        Always pass it: the ``krippendorff`` package silently defaults to interval.
    levels : sequence, optional
        The value domain in its declared order. Needed for string labels on an ordinal scale; unused levels
        matter for ordinal α only through the order.
    confidence_level, n_resamples, rng
        Bootstrap settings (None = seed 0).

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for Communication,
    University of Pennsylvania.

    Examples
    --------
    >>> nan = float("nan")
    >>> data = [[1, 1, nan, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
    ...         [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [nan, 5, 5, 5], [nan, nan, 1, 1], [nan, 3, nan, nan]]
    >>> round(krippendorff_alpha(data, level="nominal", n_resamples=0).estimate, 3)
    0.743
    >>> round(krippendorff_alpha(data, level="interval", n_resamples=0).estimate, 3)
    0.849
    """
    if level not in ALPHA_LEVELS:
        raise MetricInputError(f"level must be one of {ALPHA_LEVELS}; got {level!r}.")
    if not 0 < confidence_level < 1:
        raise MetricInputError(f"confidence_level must be between 0 and 1; got {confidence_level}.")
    arr = as_matrix(ratings)
    name = f"krippendorff_alpha_{level}"
    numeric_needed = level in ("interval", "ratio")
    if numeric_needed and levels is None and arr.dtype.kind not in "iufb":
        raise MetricInputError(f"{name} needs numeric ratings (or levels= giving the numeric order); "
                               f"got {arr.dtype} values.")
    fast = small_int_codes(arr, levels, name) if arr.dtype.kind in "iuf" else None
    if (numeric_needed and levels is None and arr.dtype.kind in "iufb"
            and (fast is None or fast[1].k > MAX_CATEGORICAL_VALUES)):
        a = arr.astype(float)
        uniq = np.unique(a[~np.isnan(a)])
        if len(uniq) > MAX_CATEGORICAL_VALUES:
            if level == "ratio":
                raise MetricInputError(
                    f"{name}: {len(uniq)} distinct values; ratio α is computed on a value domain of at most "
                    f"{MAX_CATEGORICAL_VALUES} values. Round the ratings or use level='interval'."
                )
            return _alpha_interval_moments(a, name, confidence_level, n_resamples, rng)
    digits, info = _rating_digits(arr, levels, level == "ordinal", name, fast, tried=True)
    k = max(info.k, 1)
    values = info.level_values()
    if numeric_needed and not info.numeric:
        values = np.arange(k, dtype=float)
    counts, w = _unit_patterns(digits, info.k, k)
    m = counts.sum(axis=1)
    pairable = m >= 2
    n_left = int(w[~pairable].sum())
    note = f"{n_left} unit(s) with fewer than two values left out" if n_left else ""
    patterns, mult = _canonical_patterns(counts[pairable], w[pairable])
    if patterns.shape[0] == 0:
        warn_undefined(f"{name} is undefined: no unit has two or more values")
        return Estimate(name, float("nan"), float("nan"), float("nan"), confidence_level, 0, "none",
                        join_notes(note, "undefined: no unit has two or more values"))
    coinc = _pattern_coincidences(patterns)
    o = (coinc * mult[:, None, None]).sum(axis=0)
    point = float(evaluate_replicates(lambda x: alpha_from_coincidence(x, level, values), o))
    notes = [note]
    if np.isnan(point):
        notes.append("undefined: no disagreement is possible (all pairable values are identical)")
        warn_undefined(f"{name} is undefined: all pairable values are identical")
    lo = hi = float("nan")
    method = "none"
    if n_resamples > 0:
        sums = resample_sums(coinc.reshape(len(mult), -1), mult, n_resamples, as_generator(rng))
        reps = evaluate_replicates(lambda x: alpha_from_coincidence(x.reshape(-1, k, k), level, values), sums)
        lo, hi, bad = percentile_interval(reps, confidence_level)
        method = "bootstrap-cluster"
        if bad:
            notes.append(f"{bad} of {n_resamples} bootstrap replicates undefined and left out")
    return Estimate(name, point, lo, hi, confidence_level, int(mult.sum()), method, join_notes(*notes))


def _alpha_interval_from_sums(s: np.ndarray) -> np.ndarray:
    # columns: m, Σx, Σx², Σ_u m_u SS_u/(m_u − 1)
    n, sx, sxx, within = s[..., 0], s[..., 1], s[..., 2], s[..., 3]
    ss_tot = sxx - sx**2 / n
    return 1.0 - (n - 1) * _div(within, n * ss_tot)


def _alpha_interval_moments(a: np.ndarray, name: str, confidence_level: float, n_resamples: int,
                            rng: RNGLike) -> Estimate:
    """Interval α from per-unit moments (exact; used for continuous ratings with many distinct values)."""
    ok = ~np.isnan(a)
    m = ok.sum(axis=1)
    pair = m >= 2
    x = np.where(ok, a, 0.0)[pair]
    mu = m[pair].astype(float)
    sx = x.sum(axis=1)
    sxx = (x**2).sum(axis=1)
    ss_u = sxx - sx**2 / mu
    stats = np.column_stack([mu, sx, sxx, mu * ss_u / (mu - 1)])
    n_left = int((~pair).sum())
    notes = [f"{n_left} unit(s) with fewer than two values left out" if n_left else ""]
    point = float(evaluate_replicates(_alpha_interval_from_sums, stats.sum(axis=0)))
    if np.isnan(point):
        notes.append("undefined: all pairable values are identical")
        warn_undefined(f"{name} is undefined: all pairable values are identical")
    lo = hi = float("nan")
    method = "none"
    if n_resamples > 0 and len(stats):
        gen = as_generator(rng)
        sums = resample_sums(stats, np.ones(len(stats), dtype=np.int64), n_resamples, gen)
        lo, hi, bad = percentile_interval(evaluate_replicates(_alpha_interval_from_sums, sums), confidence_level)
        method = "bootstrap-cluster"
        if bad:
            notes.append(f"{bad} of {n_resamples} bootstrap replicates undefined and left out")
    return Estimate(name, point, lo, hi, confidence_level, int(pair.sum()), method, join_notes(*notes))


def _fleiss_from_sums(s: np.ndarray, k: int) -> np.ndarray:
    # columns: Σ P_u, number of units, Σ m_u, Σ n_uk (k columns)
    p_bar = _div(s[..., 0], s[..., 1])
    pk = s[..., 3:3 + k] / s[..., 2:3]
    pe = (pk**2).sum(axis=-1)
    return _div(p_bar - pe, 1.0 - pe)


def fleiss_kappa(ratings: Any, *, levels: Sequence[Any] | None = None, confidence_level: float = 0.95,
                 n_resamples: int = 1000, rng: RNGLike = None) -> Estimate:
    """Fleiss' κ for several raters per item.

    ``κ = (P̄ − P_e)/(1 − P_e)`` with ``P_u = Σ_k n_uk(n_uk − 1)/(m_u(m_u − 1))``, ``P̄`` the mean over
    units, ``p_k`` the pooled share of level k and ``P_e = Σ_k p_k²`` (Fleiss 1971). Items may have different
    numbers of ratings (the per-item agreement then uses each item's own m_u, and the note says so); items with
    fewer than two ratings are left out and counted. Raters need not be the same people across items.

    Parameters
    ----------
    ratings : array-like or DataFrame, shape (items, raters)
        NaN for a missing rating.
    levels : sequence, optional
        Scale levels (unused levels do not change κ).
    confidence_level, n_resamples, rng
        Item bootstrap settings (None = seed 0).

    References
    ----------
    Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychol. Bull. 76, 378–382.

    Examples
    --------
    >>> round(fleiss_kappa([[1, 1, 1], [1, 2, 2], [2, 2, 2], [1, 1, 2]], n_resamples=0).estimate, 4)
    0.3333
    """
    if not 0 < confidence_level < 1:
        raise MetricInputError(f"confidence_level must be between 0 and 1; got {confidence_level}.")
    arr = as_matrix(ratings)
    digits, info = _rating_digits(arr, levels, False, "fleiss_kappa")
    k = max(info.k, 1)
    counts, w = _unit_patterns(digits, info.k, k)
    m = counts.sum(axis=1)
    keep = m >= 2
    n_out = int(w[~keep].sum())
    counts, m, w = counts[keep], m[keep].astype(float), w[keep]
    notes = []
    if n_out:
        notes.append(f"{n_out} item(s) with fewer than two ratings left out")
    if len(m) and m.min() != m.max():
        notes.append(f"ratings per item vary ({int(m.min())}–{int(m.max())}): per-item agreement uses each item's own count")
    pu = ((counts * (counts - 1)).sum(axis=1)) / (m * (m - 1)) if len(m) else np.zeros(0)
    stats = np.column_stack([pu, np.ones(len(m)), m, counts]).astype(float)  # one row per distinct pattern
    n_items = int(w.sum())
    if len(m) == 0:
        warn_undefined("fleiss_kappa is undefined: no item has two or more ratings")
        return Estimate("fleiss_kappa", float("nan"), float("nan"), float("nan"), confidence_level, 0, "none",
                        join_notes(*notes, "undefined: no item has two or more ratings"))
    point = float(evaluate_replicates(lambda s: _fleiss_from_sums(s, k), w.astype(float) @ stats))
    if np.isnan(point):
        notes.append("undefined: chance agreement is 1 (every rating falls in one category)")
        warn_undefined("fleiss_kappa is undefined: every rating falls in one category")
    lo = hi = float("nan")
    method = "none"
    if n_resamples > 0:
        patterns, mult = _canonical_patterns(stats, w)
        sums = resample_sums(patterns, mult, n_resamples, as_generator(rng))
        lo, hi, bad = percentile_interval(evaluate_replicates(lambda s: _fleiss_from_sums(s, k), sums),
                                          confidence_level)
        method = "bootstrap-cluster"
        if bad:
            notes.append(f"{bad} of {n_resamples} bootstrap replicates undefined and left out")
    return Estimate("fleiss_kappa", point, lo, hi, confidence_level, n_items, method, join_notes(*notes))
