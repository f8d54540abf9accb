"""Correlations between reference and candidate scores: Pearson r, Spearman ρ, Kendall τ-b / τ-c,
at dataset, group and system level (METRICS.md §2), with item-bootstrap intervals.

Scores with few distinct values (Likert scales) go through the joint table of the distinct values that occur,
built from integer codes with one ``bincount`` over code pairs (no round trip through floats, no sort of the n
values); the table is exact and bootstraps by multinomial draws of its cells in O(B·U²).

Continuous scores are sorted once per side. A bootstrap replicate draws items with replacement; the weighted
midranks of the resample are cumulative sums of the item counts over the pre-sorted order, so a Spearman
replicate costs O(n) (no sort, no aggregation over unsorted indices) and a Pearson replicate is a handful of
weighted moment sums. Above a documented size the interval is Fisher z instead, and ``method`` and ``note`` say
so: :data:`SPEARMAN_BOOTSTRAP_MAX`, :data:`PEARSON_BOOTSTRAP_MAX` and :data:`KENDALL_BOOTSTRAP_MAX` pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
#: Above this many pairs, Spearman's ρ on continuous scores uses a Fisher-z interval (Bonett–Wright variance,
#: see :func:`_fisher_z`) instead of the bootstrap. A replicate costs O(n), but its work arrays leave the cache
#: past ~2e5 pairs. Measured with 1,000 resamples on the 2-core reference machine (benchmarks/run.py P7 data,
#: seconds for the whole call): 0.1 at 1e4 pairs, 0.9–1.0 at 1e5, 1.5 at 1.5e5, 2.1 at 2e5, 2.9 at 2.5e5,
#: 3.7–3.8 at 3e5, 6.1 at 4e5, 7.7 at 5e5, 18 at 1e6. 2e5 keeps the default interval near 2 s (under half of
#: P7's 5 s budget; the cost grows with n · n_resamples).
SPEARMAN_BOOTSTRAP_MAX = 200_000
#: Above this many pairs, Pearson's r on continuous scores uses a Fisher-z interval (variance 1/(n − 3)) instead
#: of the bootstrap. A replicate is six weighted sums; measured as above: 0.05 s at 1e4 pairs, 0.6 at 1e5,
#: 1.2 at 2e5, 2.0 at 3e5, 2.9 at 4e5, 3.6 at 5e5, 8 at 1e6. 4e5 keeps the default interval under ~3 s.
PEARSON_BOOTSTRAP_MAX = 400_000
KINDS = ("pearson", "spearman", "kendall_tau")

#: Codes of at most this many levels build the joint table over all level pairs in one bincount.
_JOINT_CELLS = 1 << 16
#: Integer scores spanning fewer values than this are coded by offset (one bincount finds the distinct values).
_INT_SPAN = 1 << 20
#: Elements (replicates × rows) per block of the continuous bootstrap: a block's arrays stay in the cache.
_CONT_BLOCK = 1 << 16


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


# ------------------------------------------------------------------------------------------- input preparation
@dataclass
class _Sorted:
    """One side's scores sorted once: the stable sort ``order``, the distinct ``values`` (ascending), the tie
    group ``gid`` of each sorted position and the last sorted position ``gend`` of each group."""

    order: np.ndarray
    values: np.ndarray
    gid: np.ndarray
    gend: np.ndarray

    @property
    def ties(self) -> bool:
        return len(self.values) < len(self.order)


def _sort_side(v: np.ndarray) -> _Sorted:
    order = np.argsort(v, kind="stable")
    sv = v[order]
    new = np.ones(len(v), dtype=bool)
    if len(v) > 1:
        np.not_equal(sv[1:], sv[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    return _Sorted(order, sv[starts], np.cumsum(new) - 1, np.append(starts[1:], len(v))[:len(starts)] - 1)


def _inverse(order: np.ndarray) -> np.ndarray:
    inv = np.empty(len(order), dtype=np.int64)
    inv[order] = np.arange(len(order))
    return inv


def _small_int_codes(x: np.ndarray, y: np.ndarray):
    """``(x − lo, y − lo, values)`` as int64 codes when every score is a whole number in a span below
    ``_INT_SPAN`` (Likert scores stored as floats), else None. A prefix is checked first, so continuous scores
    are turned down at once."""
    for v in (x, y):
        head = v[:256]
        if not np.array_equal(head, np.round(head)):
            return None
    lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
    if not (np.isfinite(lo) and np.isfinite(hi) and hi - lo < _INT_SPAN):
        return None
    if not (np.array_equal(x, np.round(x)) and np.array_equal(y, np.round(y))):
        return None
    return (x - lo).astype(np.int64), (y - lo).astype(np.int64), lo + np.arange(int(hi - lo) + 1, dtype=float)


def _pairs(reference: Any, candidate: Any, levels: Sequence[Any] | None, what: str):
    """Encode a pair of score arrays and drop pairs with a missing side jointly.

    Returns ``(codes, values, ok, dropped)``: ``codes = (rc, cc, level_values)`` (int64 codes into the level
    values) when the scores are labels, declared levels or whole numbers in a small span, else None and
    ``values = (x, y)`` floats; ``ok`` is the mask of kept rows (None: all kept).
    """
    r = to_1d(reference, "reference")
    c = to_1d(candidate, "candidate")
    if len(r) != len(c):
        raise MetricInputError(f"{what}: reference and candidate must have the same length; got {len(r)} and {len(c)}.")
    if levels is not None or r.dtype.kind not in "iufb" or c.dtype.kind not in "iufb":
        info = encode([r, c], levels=levels, need_order=True, what=what, as_int=True)
        rc, cc = info.codes
        vals = info.level_values()
        if rc.dtype.kind in "iu" and cc.dtype.kind in "iu":  # integer fast path: nothing is missing
            return (rc.astype(np.int64, copy=False), cc.astype(np.int64, copy=False), vals), None, None, 0
        ok = ~(np.isnan(rc) | np.isnan(cc))
        return (rc[ok].astype(np.int64), cc[ok].astype(np.int64), vals), None, ok, int((~ok).sum())
    big_u = any(a.dtype.kind == "u" and a.dtype.itemsize == 8 for a in (r, c))
    if r.dtype.kind in "iub" and c.dtype.kind in "iub" and len(r) and not big_u:
        ri, ci = r.astype(np.int64, copy=False), c.astype(np.int64, copy=False)
        lo, hi = min(int(ri.min()), int(ci.min())), max(int(ri.max()), int(ci.max()))
        if hi - lo < _INT_SPAN:
            return (ri - lo, ci - lo, np.arange(lo, hi + 1).astype(float)), None, None, 0
    x, y = r.astype(float, copy=False), c.astype(float, copy=False)  # read only from here on
    miss = np.isnan(x) | np.isnan(y)
    dropped = int(miss.sum())
    ok = None
    if dropped:
        ok = ~miss
        x, y = x[ok], y[ok]
    codes = _small_int_codes(x, y) if len(x) else None
    return codes, (x, y), ok, dropped


def _table_from_codes(rc: np.ndarray, cc: np.ndarray, vals: np.ndarray, need_rows: bool):
    """The joint table of the distinct values that occur on each side, from int64 codes into ``vals``.

    Returns ``(ux, uy, table, ix, iy)``: the distinct values of each side in ascending order (which is not the
    declared order of numeric levels that are declared out of order), the float count table and, with
    ``need_rows``, each row's index into ``ux`` and ``uy``; or None when a side has more than
    :data:`MAX_TABLE_VALUES` distinct values. One bincount over code pairs builds the table of all levels when
    there are few; otherwise the codes are first compacted to the values that occur.
    """
    k = len(vals)
    joint = None
    if k * k <= _JOINT_CELLS:
        joint = np.bincount(rc * k + cc, minlength=k * k).reshape(k, k)
        cx, cy = joint.sum(axis=1), joint.sum(axis=0)
    else:
        cx, cy = np.bincount(rc, minlength=k), np.bincount(cc, minlength=k)
    px, py = np.flatnonzero(cx), np.flatnonzero(cy)
    if len(px) > MAX_TABLE_VALUES or len(py) > MAX_TABLE_VALUES:
        return None
    ux, jx = np.unique(vals[px], return_inverse=True)  # equal values of different levels (if any) merge
    uy, jy = np.unique(vals[py], return_inverse=True)
    ix = iy = None
    if need_rows or joint is None:
        lut_x = np.zeros(k, dtype=np.int64)
        lut_y = np.zeros(k, dtype=np.int64)
        lut_x[px], lut_y[py] = jx, jy
        ix, iy = lut_x[rc], lut_y[cc]
    if joint is not None:
        table = np.zeros((len(ux), len(uy)))
        np.add.at(table, (jx[:, None], jy[None, :]), joint[np.ix_(px, py)])
    else:
        table = np.bincount(ix * len(uy) + iy, minlength=len(ux) * len(uy)).reshape(len(ux), len(uy)).astype(float)
    return ux, uy, table, ix, iy


def _table_from_sorted(sx: _Sorted, sy: _Sorted):
    """``(ux, uy, table, ix, iy)`` of :func:`_table_from_codes` from the two sides' sorts."""
    ix = np.empty(len(sx.order), dtype=np.int64)
    iy = np.empty(len(sy.order), dtype=np.int64)
    ix[sx.order] = sx.gid
    iy[sy.order] = sy.gid
    ux, uy = sx.values, sy.values
    table = np.bincount(ix * len(uy) + iy, minlength=len(ux) * len(uy)).reshape(len(ux), len(uy)).astype(float)
    return ux, uy, table, ix, iy


# ------------------------------------------------------------------------------------------------- kernels
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


# ------------------------------------------------------------------------------------- continuous bootstrap
def _unit_draws(gen: np.random.Generator, n_units: int, n_resamples: int, n_rows: int):
    """Blocks (b, n_units) of resampled unit indices, one ``gen.integers`` call per block; the block size
    depends only on the sizes, so a seed gives the same draws every time."""
    block = max(1, min(n_resamples, _CONT_BLOCK // max(1, n_rows)))
    for start in range(0, n_resamples, block):
        yield gen.integers(0, n_units, size=(min(block, n_resamples - start), n_units))


def _unit_counts(draws: np.ndarray, n_units: int) -> np.ndarray:
    """How often each unit was drawn in each replicate: (b, n_units) int64 from (b, n_units) draws."""
    b = draws.shape[0]
    if b == 1:
        return np.bincount(draws[0], minlength=n_units)[None, :]
    off = (np.arange(b, dtype=np.int64) * n_units)[:, None]
    return np.bincount((draws + off).ravel(), minlength=b * n_units).reshape(b, n_units)


def _twice_centred_midranks(ws: np.ndarray, total: Any, side: _Sorted, cs: np.ndarray,
                            out: np.ndarray) -> np.ndarray:
    """``2·(midrank − (N + 1)/2)`` at each sorted position of the resample with integer weights ``ws`` (b, n)
    in ``side``'s sorted order (N = ``total``, the resample size), written to the float buffer ``out``
    (``cs``: an int64 work buffer of the same shape). The rows before a tie group weigh ``cb``, the group
    ``W``, so its midrank is ``cb + (W + 1)/2``. Integer arithmetic: exact, and an integer cumsum is several
    times faster than a float one."""
    np.cumsum(ws, axis=1, out=cs)
    if not side.ties:
        cs *= 2
        cs -= ws
        cs -= total
    else:
        ce = np.take(cs, side.gend, axis=1)
        ce[:, 1:] += ce[:, :-1].copy()  # cb + ce: the weight before the group plus the weight up to its end
        ce -= total
        np.take(ce, side.gid, axis=1, out=cs)
    out[...] = cs
    return out


@dataclass
class _ContinuousResample:
    """What a continuous replicate needs, computed once: units are the items in the reference's sorted order
    (no clusters) or the clusters; ``unit_x`` / ``unit_y`` give the unit of each sorted position of each side
    (None: the identity), ``ypos_of_x`` the candidate-sorted position of each reference-sorted position.
    Work buffers are kept between replicates (allocating fresh n-long arrays costs more than the arithmetic)."""

    sx: _Sorted
    sy: _Sorted
    n_units: int
    unit_x: np.ndarray | None
    unit_y: np.ndarray
    ypos_of_x: np.ndarray
    clustered: bool

    @classmethod
    def build(cls, sx: _Sorted, sy: _Sorted, cidx: np.ndarray | None) -> _ContinuousResample:
        ypos_of_x = _inverse(sy.order)[sx.order]
        if cidx is None:
            return cls(sx, sy, len(sx.order), None, _inverse(sx.order)[sy.order], ypos_of_x, False)
        return cls(sx, sy, int(cidx.max()) + 1, cidx[sx.order], cidx[sy.order], ypos_of_x, True)

    def _buffers(self, b: int) -> dict[str, np.ndarray]:
        cache = self.__dict__.setdefault("_buf", {})
        if b not in cache:
            n = len(self.sx.order)
            cache[b] = {**{k: np.empty((b, n), dtype=np.int64) for k in ("wx", "wy", "cs")},
                        **{k: np.empty((b, n)) for k in ("ax", "ay", "wax", "ayx")}}
        return cache[b]

    def spearman(self, wu: np.ndarray) -> np.ndarray:
        """Spearman ρ of each replicate from unit counts ``wu`` (b, n_units): the Pearson r of the midranks,
        weighted by the counts, from exact twice-centred midranks."""
        wu = np.asarray(wu, dtype=np.int64)
        buf = self._buffers(wu.shape[0])
        wx = wu if self.unit_x is None else np.take(wu, self.unit_x, axis=1, out=buf["wx"])
        wy = np.take(wu, self.unit_y, axis=1, out=buf["wy"])
        total = wx.sum(axis=1, keepdims=True) if self.clustered else len(self.sx.order)
        ax = _twice_centred_midranks(wx, total, self.sx, buf["cs"], buf["ax"])
        ay = _twice_centred_midranks(wy, total, self.sy, buf["cs"], buf["ay"])
        wax = np.multiply(wx, ax, out=buf["wax"])
        sxx = np.einsum("ij,ij->i", wax, ax)
        syy = np.einsum("ij,ij,ij->i", wy, ay, ay)
        sxy = np.einsum("ij,ij->i", wax, np.take(ay, self.ypos_of_x, axis=1, out=buf["ayx"]))
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = sxy / np.sqrt(sxx * syy)
        rho[(sxx == 0) | (syy == 0)] = np.nan  # every drawn item tied on one side: 0/0
        return np.clip(rho, -1.0, 1.0)


def _pearson_unit_stats(x: np.ndarray, y: np.ndarray, res: _ContinuousResample, cidx: np.ndarray | None):
    """Per-unit sums (6, n_units) of 1, x̃, ỹ, x̃², ỹ², x̃ỹ with x̃, ỹ standardised on the whole sample (so the
    replicate moments do not cancel)."""
    xs = (x - x.mean()) / x.std()
    ys = (y - y.mean()) / y.std()
    cols = np.stack([np.ones_like(xs), xs, ys, xs * xs, ys * ys, xs * ys])
    if cidx is None:
        return np.ascontiguousarray(cols[:, res.sx.order])
    return np.stack([np.bincount(cidx, weights=c, minlength=res.n_units) for c in cols])


def _pearson_from_moments(m: np.ndarray) -> np.ndarray:
    """Pearson r from replicate sums m (b, 6) of 1, x, y, x², y², xy. A side whose replicate variance is
    within rounding of zero (every drawn item has the same value) gives NaN."""
    n, sx, sy, sxx, syy, sxy = m.T
    with np.errstate(invalid="ignore", divide="ignore"):
        vx = sxx - sx * sx / n
        vy = syy - sy * sy / n
        r = (sxy - sx * sy / n) / np.sqrt(vx * vy)
    r[(vx <= 1e-12 * sxx) | (vy <= 1e-12 * syy)] = np.nan
    return np.clip(r, -1.0, 1.0)


def _continuous_replicates(kind: str, variant: str, x: np.ndarray, y: np.ndarray, sx: _Sorted, sy: _Sorted,
                           cidx: np.ndarray | None, n_items: int, n_resamples: int,
                           gen: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of a correlation on continuous scores (items, or clusters, drawn with
    replacement)."""
    n = len(x)
    reps = np.empty(n_resamples)
    pos = 0
    if kind == "kendall_tau":
        for w_items in item_weights(n_items, n_resamples, gen):
            w = (w_items[:, cidx] if cidx is not None else w_items).astype(float)
            for j in range(w.shape[0]):
                idx = np.repeat(np.arange(n), w[j].astype(np.int64))
                reps[pos + j] = _point_scipy(kind, variant, x[idx], y[idx])
            pos += w.shape[0]
        return reps
    res = _ContinuousResample.build(sx, sy, cidx)
    stats = _pearson_unit_stats(x, y, res, cidx) if kind == "pearson" else None
    for draws in _unit_draws(gen, res.n_units, n_resamples, n):
        wu = _unit_counts(draws, res.n_units)
        b = wu.shape[0]
        if kind == "pearson":
            reps[pos:pos + b] = _pearson_from_moments(np.einsum("ij,kj->ik", wu.astype(float), stats))
        else:
            reps[pos:pos + b] = res.spearman(wu)
        pos += b
    return reps


def _fisher_z(kind: str, r: float, n: int, confidence_level: float) -> tuple[float, float]:
    """Fisher-z interval ``tanh(atanh(r) ± z·se)``, with the variance of ``atanh(r)``:

    - Pearson: ``1/(n − 3)`` (Fisher 1921; exact in the limit for bivariate normal scores);
    - Spearman: ``(1 + r²/2)/(n − 3)`` (Bonett & Wright 2000, "Sample size requirements for estimating Pearson,
      Kendall and Spearman correlations", Psychometrika 65:23–28). Fieller, Hartley & Pearson's (1957)
      ``1.06/(n − 3)`` is the ρ = 0 value and too small for strong correlations: for bivariate normal scores
      (n = 2,000, 1,500 data sets) the variance of atanh(ρ̂)·(n − 3) was 1.05 at ρ = 0.5, 1.18 at 0.7 and
      1.29 at 0.9, against 1.12, 1.23, 1.40 from Bonett–Wright;
    - Kendall: ``0.437/(n − 4)`` (Fieller, Hartley & Pearson 1957, "Tests for rank correlation coefficients. I",
      Biometrika 44:470–481).
    """
    if not np.isfinite(r) or n <= 4:
        return float("nan"), float("nan")
    var = {"pearson": 1.0 / (n - 3), "spearman": (1.0 + r * r / 2.0) / (n - 3), "kendall_tau": 0.437 / (n - 4)}[kind]
    z = np.arctanh(np.clip(r, -0.999999999999, 0.999999999999))
    q = sps.norm.isf((1 - confidence_level) / 2) * np.sqrt(var)
    return float(np.tanh(z - q)), float(np.tanh(z + q))


_BOOTSTRAP_MAX_NAME = {"kendall_tau": "Kendall", "spearman": "Spearman", "pearson": "Pearson"}


def _bootstrap_max(kind: str) -> int:
    return {"kendall_tau": KENDALL_BOOTSTRAP_MAX, "spearman": SPEARMAN_BOOTSTRAP_MAX,
            "pearson": PEARSON_BOOTSTRAP_MAX}[kind]


def correlation(reference: Any, candidate: Any, *, kind: str = "spearman", variant: str = "b",
                levels: Sequence[Any] | None = None, clusters: Any = None, confidence_level: float = 0.95,
                n_resamples: int = 1000, rng: RNGLike = None, method: str = "bootstrap") -> Estimate:
    """Item-level correlation with a bootstrap (or Fisher-z) interval. See :func:`spearman`.

    Scores with at most :data:`MAX_TABLE_VALUES` distinct values on each side are bootstrapped exactly through
    their joint table (``bootstrap-multinomial``, or ``bootstrap-cluster`` with ``clusters``). Continuous
    scores are bootstrapped over items (``bootstrap``); above :data:`SPEARMAN_BOOTSTRAP_MAX`,
    :data:`PEARSON_BOOTSTRAP_MAX` or :data:`KENDALL_BOOTSTRAP_MAX` pairs the interval is Fisher z
    (``fisher-z``, see :func:`_fisher_z` for the variances) and the ``note`` says so. ``method="fisher-z"``
    asks for it at any size.
    """
    if kind not in KINDS:
        raise MetricInputError(f"kind must be one of {KINDS}; got {kind!r}.")
    if variant not in ("b", "c"):
        raise MetricInputError(f"variant must be 'b' or 'c'; got {variant!r}.")
    if method not in ("bootstrap", "fisher-z"):
        raise MetricInputError(f"method must be 'bootstrap' or 'fisher-z'; got {method!r}.")
    if not 0 < confidence_level < 1:
        raise MetricInputError(f"confidence_level must be between 0 and 1; got {confidence_level}.")
    name = kind if not (kind == "kendall_tau" and variant == "c") else "kendall_tau_c"
    codes, values, ok, dropped = _pairs(reference, candidate, levels, name)
    n_rows = len(ok) if ok is not None else len(codes[0] if codes is not None else values[0])
    cidx = None
    if clusters is not None:
        cl = to_1d(clusters, "clusters")
        if len(cl) != n_rows:
            raise MetricInputError(f"{name}: clusters must have one entry per row; got {len(cl)} for {n_rows} rows.")
        cidx = pd.factorize(pd.Series(cl if ok is None else cl[ok], dtype=object))[0]
    notes = [dropped_note(dropped)]
    tab = sx = sy = None
    if codes is not None:
        tab = _table_from_codes(*codes, need_rows=cidx is not None)
        if tab is None:
            rc, cc, vals = codes
            values = (vals[rc], vals[cc])
    x, y = values if tab is None else (None, None)
    if tab is None:
        sx, sy = _sort_side(x), _sort_side(y)
        if len(sx.values) <= MAX_TABLE_VALUES and len(sy.values) <= MAX_TABLE_VALUES:
            tab = _table_from_sorted(sx, sy)
    use_table = tab is not None
    if use_table:
        ux, uy, table, ix, iy = tab
        n = int(table.sum())
        kernel = _table_kernel(kind, variant, ux, uy)
        point = float(evaluate_replicates(kernel, table)) if n >= 2 else float("nan")
    else:
        n = len(x)
        point = _point_scipy(kind, variant, x, y)
    n_items = int(cidx.max()) + 1 if cidx is not None and n else n
    if np.isnan(point):
        why = "fewer than two pairs" if n < 2 else "one side is constant, so the correlation is 0/0"
        notes.append(f"undefined: {why}")
        warn_undefined(f"{name} is undefined: {why}")
        return Estimate(name, float("nan"), float("nan"), float("nan"), confidence_level, n_items, "none",
                        join_notes(*notes))
    lo = hi = float("nan")
    meth = "none"
    limit = _bootstrap_max(kind)
    if method == "fisher-z" or (n_resamples > 0 and not use_table and n > limit):
        lo, hi = _fisher_z(kind, point, n_items, confidence_level)
        meth = "fisher-z"
        if method == "bootstrap":
            notes.append(f"Fisher-z interval: {_BOOTSTRAP_MAX_NAME[kind]} bootstrap on {n:,} continuous pairs "
                         f"exceeds {limit:,}")
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
            with np.errstate(invalid="ignore", divide="ignore"):
                reps = _continuous_replicates(kind, variant, x, y, sx, sy, cidx, n_items, n_resamples, gen)
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
        ``"bootstrap"``: exact multinomial bootstrap of the joint table for scores with at most
        ``MAX_TABLE_VALUES`` distinct values a side; item bootstrap for continuous scores up to
        ``SPEARMAN_BOOTSTRAP_MAX`` / ``PEARSON_BOOTSTRAP_MAX`` / ``KENDALL_BOOTSTRAP_MAX`` pairs, a Fisher-z
        interval above (``method`` of the result ``"fisher-z"``, and the ``note`` says why). ``"fisher-z"``:
        the Fisher-z interval at any size.
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

    Above ``PEARSON_BOOTSTRAP_MAX`` continuous pairs the interval is Fisher z, variance ``1/(n − 3)`` (Fisher
    1921; it assumes roughly bivariate normal scores); ``method`` says ``"fisher-z"``.
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

    Above ``SPEARMAN_BOOTSTRAP_MAX`` continuous pairs the interval is Fisher z with the variance
    ``(1 + ρ²/2)/(n − 3)`` of Bonett & Wright (2000), Psychometrika 65:23–28; ``method`` says ``"fisher-z"``.
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
