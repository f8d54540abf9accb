"""Correlations between reference and candidate scores: Pearson r, Spearman ρ, Kendall τ-b / τ-c,
at dataset, group and system level (METRICS.md §2), with item-bootstrap intervals.

Scores with few distinct values (Likert scales) go through the joint table of distinct values, which is
exact and bootstraps in O(B·U²). Continuous scores are resampled with item weights (O(B·n)); Kendall's τ on
continuous scores above :data:`KENDALL_BOOTSTRAP_MAX` pairs falls back to a Fisher-z interval and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from ..errors import MetricInputError
from ..estimate import Estimate
from . import kernels as K
from ._inputs import dropped_note, encode, join_notes, to_1d
from .bootstrap import (RNGLike, as_generator, bootstrap_stats, compress_patterns, evaluate_replicates,
                        item_weights, percentile_interval, warn_undefined)

#: Above this many distinct values on a side, the continuous (weighted) path is used.
MAX_TABLE_VALUES = 64
#: Above this many pairs, Kendall's τ on continuous scores uses a Fisher-z interval instead of the bootstrap.
KENDALL_BOOTSTRAP_MAX = 20_000
KINDS = ("pearson", "spearman", "kendall_tau")


def _numeric_pair(reference: Any, candidate: Any, levels: Sequence[Any] | None, what: str):
    r = to_1d(reference, "reference")
    c = to_1d(candidate, "candidate")
    if len(r) != len(c):
        raise MetricInputError(f"{what}: reference and candidate must have the same length; got {len(r)} and {len(c)}.")
    if levels is not None or r.dtype.kind not in "iufb" or c.dtype.kind not in "iufb":
        info = encode([r, c], levels=levels, need_order=True, what=what)
        vals = info.level_values()
        x = np.where(np.isnan(info.codes[0]), np.nan, vals[np.nan_to_num(info.codes[0]).astype(int)])
        y = np.where(np.isnan(info.codes[1]), np.nan, vals[np.nan_to_num(info.codes[1]).astype(int)])
    else:
        x, y = r.astype(float), c.astype(float)
    return x, y


def _table_kernel(kind: str, variant: str, xv: np.ndarray, yv: np.ndarray):
    if kind == "pearson":
        return lambda t: K.pearson_table(t, xv, yv)
    if kind == "spearman":
        return K.spearman_table
    return K.kendall_tau_b_table if variant == "b" else K.kendall_tau_c_table


def _point_scipy(kind: str, variant: str, x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    if kind == "pearson":
        return float(sps.pearsonr(x, y).statistic)
    if kind == "spearman":
        return float(sps.spearmanr(x, y).statistic)
    return float(sps.kendalltau(x, y, variant=variant).statistic)


def _weighted_pearson_rows(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r for each row of weights w (b, n) over fixed x, y (n,) or per-row x, y (b, n)."""
    sw = w.sum(axis=1)
    mx = (w * x).sum(axis=1) / sw
    my = (w * y).sum(axis=1) / sw
    dx = x - mx[:, None]
    dy = y - my[:, None]
    sxy = (w * dx * dy).sum(axis=1)
    sxx = (w * dx * dx).sum(axis=1)
    syy = (w * dy * dy).sum(axis=1)
    return np.clip(K._div(sxy, np.sqrt(sxx * syy)), -1, 1)


def _weighted_midranks(w: np.ndarray, inv: np.ndarray, n_unique: int) -> np.ndarray:
    """Midranks of each row's resample: w (b, n) item weights, inv (n,) index of each item's distinct value."""
    b = w.shape[0]
    cnt = np.zeros((b, n_unique))
    for j in range(b):  # bincount per replicate is the fastest exact aggregation
        cnt[j] = np.bincount(inv, weights=w[j], minlength=n_unique)
    mid = np.cumsum(cnt, axis=1) - cnt + (cnt + 1) / 2
    return mid[:, inv]


def _fisher_z(kind: str, r: float, n: int, confidence_level: float) -> tuple[float, float]:
    if not np.isfinite(r) or n <= 4:
        return float("nan"), float("nan")
    var = {"pearson": 1.0 / (n - 3), "spearman": 1.06 / (n - 3), "kendall_tau": 0.437 / (n - 4)}[kind]
    z = np.arctanh(np.clip(r, -0.999999999999, 0.999999999999))
    q = sps.norm.isf((1 - confidence_level) / 2) * np.sqrt(var)
    return float(np.tanh(z - q)), float(np.tanh(z + q))


def correlation(reference: Any, candidate: Any, *, kind: str = "spearman", variant: str = "b",
                levels: Sequence[Any] | None = None, clusters: Any = None, confidence_level: float = 0.95,
                n_resamples: int = 1000, rng: RNGLike = None, method: str = "bootstrap") -> Estimate:
    """Item-level correlation with a bootstrap (or Fisher-z) interval. See :func:`spearman`."""
    if kind not in KINDS:
        raise MetricInputError(f"kind must be one of {KINDS}; got {kind!r}.")
    if variant not in ("b", "c"):
        raise MetricInputError(f"variant must be 'b' or 'c'; got {variant!r}.")
    if method not in ("bootstrap", "fisher-z"):
        raise MetricInputError(f"method must be 'bootstrap' or 'fisher-z'; got {method!r}.")
    if not 0 < confidence_level < 1:
        raise MetricInputError(f"confidence_level must be between 0 and 1; got {confidence_level}.")
    name = kind if not (kind == "kendall_tau" and variant == "c") else "kendall_tau_c"
    x, y = _numeric_pair(reference, candidate, levels, name)
    ok = ~(np.isnan(x) | np.isnan(y))
    dropped = int((~ok).sum())
    x, y = x[ok], y[ok]
    cidx = None
    if clusters is not None:
        cl = to_1d(clusters, "clusters")
        if len(cl) != len(ok):
            raise MetricInputError(f"{name}: clusters must have one entry per row; got {len(cl)} for {len(ok)} rows.")
        cidx = pd.factorize(pd.Series(cl[ok], dtype=object))[0]
    notes = [dropped_note(dropped)]
    n = len(x)
    n_items = int(cidx.max()) + 1 if cidx is not None and n else n
    ux, ix = np.unique(x, return_inverse=True)
    uy, iy = np.unique(y, return_inverse=True)
    use_table = len(ux) <= MAX_TABLE_VALUES and len(uy) <= MAX_TABLE_VALUES
    if use_table:
        kernel = _table_kernel(kind, variant, ux, uy)
        table = np.bincount(ix * len(uy) + iy, minlength=len(ux) * len(uy)).reshape(len(ux), len(uy)).astype(float)
        point = float(evaluate_replicates(kernel, table)) if n >= 2 else float("nan")
    else:
        point = _point_scipy(kind, variant, x, y)
    if np.isnan(point):
        why = "fewer than two pairs" if n < 2 else "one side is constant, so the correlation is 0/0"
        notes.append(f"undefined: {why}")
        warn_undefined(f"{name} is undefined: {why}")
        return Estimate(name, float("nan"), float("nan"), float("nan"), confidence_level, n_items, "none",
                        join_notes(*notes))
    lo = hi = float("nan")
    meth = "none"
    if method == "fisher-z" or (n_resamples > 0 and not use_table and kind == "kendall_tau"
                                and n > KENDALL_BOOTSTRAP_MAX):
        lo, hi = _fisher_z(kind, point, n_items, confidence_level)
        meth = "fisher-z"
        if method == "bootstrap":
            notes.append(f"Fisher-z interval: Kendall bootstrap on {n:,} continuous pairs exceeds "
                         f"{KENDALL_BOOTSTRAP_MAX:,}")
    elif n_resamples > 0:
        gen = as_generator(rng)
        if use_table:
            if cidx is None:
                reps_t = gen.multinomial(n, table.ravel() / n, size=n_resamples).reshape(
                    n_resamples, len(ux), len(uy)).astype(float)
                meth = "bootstrap-multinomial"
            else:
                u2 = len(ux) * len(uy)
                flat = np.bincount(cidx * u2 + ix * len(uy) + iy, minlength=n_items * u2).reshape(n_items, u2)
                reps_t = bootstrap_stats(flat, n_resamples, gen).reshape(n_resamples, len(ux), len(uy))
                meth = "bootstrap-cluster"
            reps = evaluate_replicates(kernel, reps_t)
        else:
            reps = np.empty(n_resamples)
            pos = 0
            for w_items in item_weights(n_items, n_resamples, gen):
                w = (w_items[:, cidx] if cidx is not None else w_items).astype(float)
                b = w.shape[0]
                with np.errstate(invalid="ignore", divide="ignore"):
                    if kind == "pearson":
                        reps[pos:pos + b] = _weighted_pearson_rows(w, x, y)
                    elif kind == "spearman":
                        rx = _weighted_midranks(w, ix, len(ux))
                        ry = _weighted_midranks(w, iy, len(uy))
                        reps[pos:pos + b] = _weighted_pearson_rows(w, rx, ry)
                    else:
                        for j in range(b):
                            idx = np.repeat(np.arange(n), w[j].astype(np.int64))
                            reps[pos + j] = _point_scipy(kind, variant, x[idx], y[idx])
                pos += b
            meth = "bootstrap-cluster" if cidx is not None else "bootstrap"
        lo, hi, bad = percentile_interval(reps, confidence_level)
        if bad:
            notes.append(f"{bad} of {n_resamples} bootstrap replicates undefined and left out")
    return Estimate(name, point, lo, hi, confidence_level, n_items, meth, join_notes(*notes))


_DOC = """
    Parameters
    ----------
    reference, candidate : array-like of numbers (or labels with ``levels=``)
        Pairs with a missing value on either side are left out together and counted in ``note``.
    levels : sequence, optional
        Declared order for string labels (codes 0..K-1, or the numbers if every level is numeric).
    clusters : array-like, optional
        Item id per row (resampled together).
    confidence_level, n_resamples, rng
        Bootstrap settings (None = seed 0).
    method : {"bootstrap", "fisher-z"}
"""


def _doc(fn):
    """Insert the shared parameter descriptions (``__DOC__`` marker) into a correlation's docstring."""
    fn.__doc__ = (fn.__doc__ or "").replace("__DOC__", _DOC)
    return fn


@_doc
def pearson(reference: Any, candidate: Any, *, levels: Sequence[Any] | None = None, clusters: Any = None,
            confidence_level: float = 0.95, n_resamples: int = 1000, rng: RNGLike = None,
            method: str = "bootstrap") -> Estimate:
    """Pearson's r at item (dataset) level.
    __DOC__
    Examples
    --------
    >>> round(pearson([1, 2, 3, 4], [1, 3, 2, 4], n_resamples=0).estimate, 4)
    0.8
    """
    return correlation(reference, candidate, kind="pearson", levels=levels, clusters=clusters,
                       confidence_level=confidence_level, n_resamples=n_resamples, rng=rng, method=method)


@_doc
def spearman(reference: Any, candidate: Any, *, levels: Sequence[Any] | None = None, clusters: Any = None,
             confidence_level: float = 0.95, n_resamples: int = 1000, rng: RNGLike = None,
             method: str = "bootstrap") -> Estimate:
    """Spearman's ρ (Pearson r of midranks) with an item-bootstrap interval (scipy has no analytic one).
    __DOC__
    Examples
    --------
    >>> round(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7], n_resamples=0).estimate, 4)
    0.8208
    """
    return correlation(reference, candidate, kind="spearman", levels=levels, clusters=clusters,
                       confidence_level=confidence_level, n_resamples=n_resamples, rng=rng, method=method)


@_doc
def kendall_tau(reference: Any, candidate: Any, *, variant: str = "b", levels: Sequence[Any] | None = None,
                clusters: Any = None, confidence_level: float = 0.95, n_resamples: int = 1000,
                rng: RNGLike = None, method: str = "bootstrap") -> Estimate:
    """Kendall's τ-b (default) or τ-c (``variant="c"``).

    τ-b = (P − Q)/sqrt((n0 − n1)(n0 − n2)); τ-c = 2m(P − Q)/(n²(m − 1)).
    __DOC__
    Examples
    --------
    >>> round(kendall_tau([1, 2, 3, 4, 5], [5, 6, 7, 8, 7], n_resamples=0).estimate, 4)
    0.7379
    """
    return correlation(reference, candidate, kind="kendall_tau", variant=variant, levels=levels,
                       clusters=clusters, confidence_level=confidence_level, n_resamples=n_resamples, rng=rng,
                       method=method)


def _rowwise_corr(kind: str, variant: str, ax: np.ndarray, ay: np.ndarray, present: np.ndarray) -> np.ndarray:
    """The correlation of each row of (ax, ay) (b, S) over its present columns, vectorised over rows where
    every column is present (the rest, rare, one by one)."""
    out = np.full(ax.shape[0], np.nan)
    full = present.all(axis=1)
    if full.any():
        x, y = ax[full], ay[full]
        with np.errstate(invalid="ignore", divide="ignore"):
            if kind == "pearson":
                out[full] = _weighted_pearson_rows(np.ones_like(x), x, y)
            elif kind == "spearman":
                out[full] = _weighted_pearson_rows(np.ones_like(x), sps.rankdata(x, axis=1), sps.rankdata(y, axis=1))
            elif variant == "b":
                s = x.shape[1]
                iu = np.triu_indices(s, 1)
                dx = np.sign(x[:, :, None] - x[:, None, :])[:, iu[0], iu[1]]
                dy = np.sign(y[:, :, None] - y[:, None, :])[:, iu[0], iu[1]]
                n0 = len(iu[0])
                n1 = (dx == 0).sum(axis=1)
                n2 = (dy == 0).sum(axis=1)
                out[full] = K._div((dx * dy).sum(axis=1), np.sqrt((n0 - n1) * (n0 - n2)))
            else:
                out[full] = [_point_scipy(kind, variant, a, b) for a, b in zip(x, y)]
    for j in np.flatnonzero(~full):
        g = present[j]
        out[j] = _point_scipy(kind, variant, ax[j, g], ay[j, g])
    return out


def correlation_levels(reference: Any, candidate: Any, *, kind: str = "spearman", variant: str = "b",
                       groups: Any = None, systems: Any = None, confidence_level: float = 0.95,
                       n_resamples: int = 1000, rng: RNGLike = None) -> dict[str, Estimate]:
    """Correlation at dataset level, and at group and system level when ``groups`` / ``systems`` are given.

    - dataset: one correlation over all items (interval: item bootstrap);
    - group: the correlation within each group, then the unweighted mean; groups where either side is constant
      (or with fewer than two items) are skipped and counted; interval: bootstrap over groups;
    - system: correlation of per-system means; interval: item bootstrap (all items resampled together, drawn as
      a multinomial over distinct (system, reference, candidate) patterns, which has the same distribution).

    Returns a dict keyed by level name.
    """
    x, y = _numeric_pair(reference, candidate, None, kind)
    gen = as_generator(rng)
    n_missing = int((np.isnan(x) | np.isnan(y)).sum())
    missing_note = f"{n_missing} pair(s) with a missing value on either side left out" if n_missing else ""
    name = kind if not (kind == "kendall_tau" and variant == "c") else "kendall_tau_c"
    out = {"dataset": correlation(x, y, kind=kind, variant=variant,
                                  confidence_level=confidence_level, n_resamples=n_resamples, rng=gen)}
    ok = ~(np.isnan(x) | np.isnan(y))
    if groups is not None:
        g = to_1d(groups, "groups")
        gi, guniq = pd.factorize(pd.Series(g[ok], dtype=object))
        xs, ys = x[ok], y[ok]
        vals = []
        skipped = 0
        order = np.argsort(gi, kind="stable")
        bounds = np.searchsorted(gi[order], np.arange(len(guniq) + 1))
        for j in range(len(guniq)):
            idx = order[bounds[j]:bounds[j + 1]]
            v = _point_scipy(kind, variant, xs[idx], ys[idx])
            if np.isnan(v):
                skipped += 1
            else:
                vals.append(v)
        vals_a = np.array(vals)
        notes = [missing_note,
                 f"{skipped} of {len(guniq)} groups skipped (a constant side or fewer than two items)" if skipped else ""]
        if len(vals_a) == 0:
            notes.append("undefined: no group with a defined correlation")
            out["group"] = Estimate(name, float("nan"), float("nan"), float("nan"), confidence_level, 0, "none",
                                    join_notes(*notes))
        else:
            point = float(vals_a.mean())
            lo = hi = float("nan")
            meth = "none"
            if n_resamples > 0:
                w = gen.multinomial(len(vals_a), np.full(len(vals_a), 1 / len(vals_a)), size=n_resamples)
                lo, hi, _ = percentile_interval(w @ vals_a / len(vals_a), confidence_level)
                meth = "bootstrap-groups"
            out["group"] = Estimate(name, point, lo, hi, confidence_level, len(vals_a), meth, join_notes(*notes))
    if systems is not None:
        s = to_1d(systems, "systems")
        si, suniq = pd.factorize(pd.Series(s[ok], dtype=object))
        xs, ys = x[ok], y[ok]
        ns = len(suniq)
        cnt = np.bincount(si, minlength=ns).astype(float)
        # rounded to 12 decimals so that means equal in exact arithmetic tie when ranked (floating-point sums
        # of the same multiset in different orders differ in the last bits)
        mx = np.round(np.bincount(si, weights=xs, minlength=ns) / cnt, 12)
        my = np.round(np.bincount(si, weights=ys, minlength=ns) / cnt, 12)
        point = _point_scipy(kind, variant, mx, my)
        notes = [missing_note] if missing_note else []
        lo = hi = float("nan")
        meth = "none"
        if np.isnan(point):
            notes.append("undefined: fewer than two systems or constant system means")
        elif n_resamples > 0:
            reps = np.empty(n_resamples)
            pos = 0
            # items with the same (system, x, y) are interchangeable: a multinomial draw over these patterns
            # has the distribution of the item draw (Likert scores: a few hundred patterns instead of n items)
            pats, mult = compress_patterns(np.column_stack([si.astype(float), xs, ys]))
            psys = pats[:, 0].astype(np.int64)
            onehot = np.zeros((len(pats), ns))
            onehot[np.arange(len(pats)), psys] = 1.0
            pvals = mult / mult.sum()
            block = max(1, min(n_resamples, 20_000_000 // max(1, len(pats))))
            for start in range(0, n_resamples, block):
                wf = gen.multinomial(len(xs), pvals, size=min(block, n_resamples - start)).astype(float)
                c = wf @ onehot
                with np.errstate(invalid="ignore", divide="ignore"):
                    ax = np.round((wf * pats[:, 1]) @ onehot / c, 12)
                    ay = np.round((wf * pats[:, 2]) @ onehot / c, 12)
                reps[pos:pos + wf.shape[0]] = _rowwise_corr(kind, variant, ax, ay, c > 0)
                pos += wf.shape[0]
            lo, hi, bad = percentile_interval(reps, confidence_level)
            meth = "bootstrap"
            if bad:
                notes.append(f"{bad} of {n_resamples} bootstrap replicates undefined and left out")
        out["system"] = Estimate(name, float(point), lo, hi, confidence_level, ns, meth, join_notes(*notes))
    return out
