"""Input conversion shared by the metrics: labels -> integer codes on a declared or inferred order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MetricInputError
from ..scales import _is_number, canonical_label


def to_1d(x: Any, name: str) -> np.ndarray:
    """A 1-D numpy array from a list, tuple, ndarray, Series, Index or Categorical."""
    if isinstance(x, pd.Series | pd.Index):
        arr = x.to_numpy(dtype=object) if isinstance(x.dtype, pd.CategoricalDtype) else x.to_numpy()
    elif isinstance(x, pd.Categorical):
        arr = np.asarray(x, dtype=object)
    else:
        arr = np.asarray(x) if not isinstance(x, list | tuple) else np.asarray(x, dtype=object)
        if arr.dtype == object and arr.size and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in arr.tolist()):
            arr = arr.astype(float)
    if arr.ndim != 1:
        raise MetricInputError(f"{name} must be one-dimensional; got an array of shape {arr.shape}.")
    return arr


def _numeric(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "iufb"


@dataclass
class Codes:
    """Integer codes of one or more label arrays on a common level order."""

    codes: list[np.ndarray]      # float arrays with NaN for missing
    levels: list[str]            # canonical level names in order
    inferred: bool               # levels were inferred from data (not declared)
    numeric: bool                # every level is a number

    @property
    def k(self) -> int:
        return len(self.levels)

    def level_values(self) -> np.ndarray:
        if self.numeric:
            return np.array([float(v) for v in self.levels])
        return np.arange(self.k, dtype=float)


def _int_lut_codes_slow(a: np.ndarray, values: np.ndarray, what: str) -> np.ndarray:
    """Integer array to int64 codes through a lookup table over min..max; raises on a label not in ``values``."""
    lo, hi = int(values.min()), int(values.max())
    lut = np.full(hi - lo + 2, -1, dtype=np.int64)  # last slot: out of range
    lut[values.astype(np.int64) - lo] = np.arange(len(values))
    idx = a.astype(np.int64, copy=False) - lo
    idx = np.where((idx >= 0) & (idx <= hi - lo), idx, hi - lo + 1)
    codes = lut[idx]
    if (codes < 0).any():
        bad = np.unique(a[codes < 0])[:10]
        raise MetricInputError(
            f"{what}: labels {[int(v) for v in bad]} are not among the declared levels "
            f"{[int(v) for v in values]}; add them to levels (in their place in the order) or map them to a "
            "level before computing the metric."
        )
    return codes


def _readonly(a: np.ndarray) -> np.ndarray:
    """A read-only view (codes may share memory with the caller's array: nobody may write through them)."""
    v = a.view()
    v.flags.writeable = False
    return v


def _int_lut_codes(arrays: Sequence[np.ndarray], values: np.ndarray, what: str) -> list[np.ndarray]:
    """Integer arrays to int64 codes (index of the value in ``values``, whole numbers); raises on other labels.

    Fast paths, all giving the codes of the plain lookup table: when the values are ``lo..lo+K-1`` in ascending
    order the code is ``a - lo`` (no table at all; for int64 input with ``lo == 0``, a read-only view of the
    input, no copy); otherwise one gather from a table over ``lo..hi`` after a range check on min and max. Any
    value out of range goes to the plain path, which reports the unknown labels.
    """
    values = np.asarray(values)
    lo, hi = int(values.min()), int(values.max())
    k = len(values)
    contiguous = hi - lo + 1 == k and bool(np.all(values == np.arange(lo, lo + k)))
    lut = None
    if not contiguous:
        lut = np.full(hi - lo + 1, -1, dtype=np.int64)
        lut[values.astype(np.int64) - lo] = np.arange(k)
    out = []
    for a in arrays:
        if a.size == 0:
            out.append(np.zeros(0, dtype=np.int64))
            continue
        amin, amax = int(a.min()), int(a.max())
        if amin < lo or amax > hi:
            out.append(_int_lut_codes_slow(a, values, what))  # raises: a label outside the levels
            continue
        if contiguous:
            if lo == 0 and a.dtype == np.int64:
                out.append(_readonly(a))
            else:
                c = a.astype(np.int64)
                if lo:
                    c -= lo
                out.append(c)
            continue
        idx = a if lo == 0 else a.astype(np.int64) - lo
        codes = np.take(lut, idx)
        if (codes < 0).any():
            codes = _int_lut_codes_slow(a, values, what)  # raises: a label between the levels
        out.append(codes)
    return out


#: Values per block in the chunked passes (the temporaries stay in cache).
_CHUNK = 1 << 16


def small_int_codes(arr: np.ndarray, levels: Sequence[Any] | None, what: str,
                    max_levels: int = 4096) -> tuple[np.ndarray, Codes] | None:
    """Fast path for numeric arrays of whole numbers: int16 codes ``0..K-1``, ``K`` for missing (NaN).

    With ``levels`` (all whole numbers) the codes are on the declared order; without, on the values present,
    ascending (what :func:`encode` infers for whole numbers). One chunked pass casts to int16 and checks that
    the cast is exact (no per-value classification). Returns ``None`` whenever the plain :func:`encode` must
    decide (other dtypes, non-integer, infinite or out-of-level values, which it then reports; more than
    ``max_levels`` levels; nothing present), so the codes never differ from those :func:`encode` gives.
    The returned ``Codes`` carries the level information only (its ``codes`` list is empty).
    """
    if arr.dtype.kind not in "iuf" or arr.size == 0 or arr.ndim not in (1, 2):
        return None
    lv = None
    if levels is not None:
        lv = [canonical_label(v) for v in levels]
        if (not lv or len(lv) > max_levels or any(v is None for v in lv) or len(set(lv)) != len(lv)
                or not all(_is_number(v) and float(v).is_integer() and abs(float(v)) < 30000 for v in lv)):
            return None
        values = np.array([int(float(v)) for v in lv], dtype=np.int64)
        lo, hi = int(values.min()), int(values.max())
    is_float = arr.dtype.kind == "f"
    if is_float:
        amin, amax = np.fmin.reduce(arr, axis=None), np.fmax.reduce(arr, axis=None)  # NaN ignored
        if not (np.isfinite(amin) and np.isfinite(amax)):
            return None  # nothing present, or an infinite value
        if amin != np.floor(amin) or amax != np.floor(amax):
            return None
    else:
        amin, amax = arr.min(), arr.max()
    amin, amax = int(amin), int(amax)
    if lv is None:
        lo, hi = amin, amax
        if hi - lo + 1 > max_levels or lo < -32768 or hi > 32767:
            return None
    elif amin < lo or amax > hi:
        return None  # a value outside the declared levels: the plain path reports it
    span = hi - lo + 1  # codes on lo..hi first; span stands for a missing value
    if span > 32000:
        return None
    k = span if lv is None else len(values)
    lut = None
    if lv is not None and not (span == k and bool(np.all(values == np.arange(lo, hi + 1)))):
        lut = np.full(span + 1, -1, dtype=np.int16)
        lut[values - lo] = np.arange(k)
        lut[span] = k
    out = np.empty(arr.shape, dtype=np.int16)
    present = np.zeros(span + 1, dtype=np.int64) if lv is None else None
    step = max(1, _CHUNK // (arr.shape[1] if arr.ndim == 2 and arr.shape[1] else 1))
    exact = 0
    off = np.int16(lo)
    with np.errstate(invalid="ignore", over="ignore"):
        for start in range(0, arr.shape[0], step):
            blk = arr[start:start + step]
            d = blk.astype(np.int16)
            if is_float:  # exact cast <=> a whole number (NaN never compares equal: counted apart)
                miss = np.isnan(blk)
                exact += int(np.count_nonzero(d == blk)) + int(np.count_nonzero(miss))
            if lo:
                d -= off
            if is_float:
                d += miss.view(np.uint8) * (np.int16(span) - d)  # missing -> span (int16 wraps consistently)
            if lut is not None:
                d = np.take(lut, d)
            elif present is not None:
                present += np.bincount(d.ravel(), minlength=span + 1)
            out[start:start + step] = d
    if is_float and exact != arr.size:
        return None  # a non-integer value: the plain path decides
    if lut is not None:
        if np.any(out < 0):
            return None  # a value between the declared levels: the plain path reports it
        return out, Codes([], lv, False, True)
    if lv is not None:  # lo..hi in order: the code is the offset, and span == k marks a missing value
        return out, Codes([], lv, False, True)
    hit = present[:span] > 0
    vals = np.flatnonzero(hit) + lo
    if len(vals) < span:  # values missing inside lo..hi: renumber the present ones
        remap = np.full(span + 1, len(vals), dtype=np.int16)
        remap[:span] = np.cumsum(hit) - 1
        out = np.take(remap, out)
    return out, Codes([], [str(int(v)) for v in vals], True, True)


def encode(arrays: Sequence[np.ndarray], *, levels: Sequence[Any] | None, need_order: bool,
           what: str, as_int: bool = False) -> Codes:
    """Encode label arrays to codes on a common order.

    With ``levels`` the order is the declared one and any other label is an error. Without, numeric labels
    are ordered by value; string labels are allowed only when ``need_order`` is False (nominal metrics), and
    then get a lexicographic order that is used for display only.

    Codes are float arrays with NaN for a missing label; with ``as_int=True`` integer input may instead come
    back as int64 arrays (which cannot hold a missing value) through a lookup-table fast path.
    """
    int_input = all(a.dtype.kind in "iu" for a in arrays)
    if levels is not None:
        lv = [canonical_label(v) for v in levels]
        if any(v is None for v in lv) or len(set(lv)) != len(lv):
            raise MetricInputError(f"levels {list(levels)} contain missing or duplicate values; list each level once, in order.")
        if as_int and int_input and all(_is_number(v) and float(v).is_integer() for v in lv):
            vals = np.array([float(v) for v in lv])
            if vals.max() - vals.min() < 1_000_000:
                return Codes(_int_lut_codes(arrays, vals, what), lv, False, True)
        index = {v: i for i, v in enumerate(lv)}
        out = []
        unknown: set[str] = set()
        for arr in arrays:
            if _numeric(arr) and all(_is_number(v) for v in lv):
                vals = np.array([float(v) for v in lv])
                a = arr.astype(float)
                pos = np.searchsorted(np.sort(vals), a)
                order = np.argsort(vals)
                pos = np.clip(pos, 0, len(vals) - 1)
                hit = np.sort(vals)[pos] == a
                codes = np.where(hit, order[pos].astype(float), np.nan)
                bad = ~hit & ~np.isnan(a)
                unknown.update(canonical_label(v) or "" for v in np.unique(a[bad])[:20])
                out.append(codes)
                continue
            f, uniques = pd.factorize(pd.Series(arr, dtype=object), use_na_sentinel=True)
            m = np.full(len(uniques) + 1, np.nan)
            for u, val in enumerate(uniques):
                c = canonical_label(val)
                if c is None:
                    continue
                if c in index:
                    m[u] = index[c]
                else:
                    unknown.add(c)
            out.append(m[np.where(f < 0, len(uniques), f)])
        if unknown:
            shown = sorted(unknown)[:10]
            raise MetricInputError(
                f"{what}: labels {shown} are not among the declared levels {lv}; add them to levels "
                "(in their place in the order) or map them to a level before computing the metric."
            )
        return Codes(out, lv, False, all(_is_number(v) for v in lv))

    if as_int and int_input and arrays and sum(a.size for a in arrays):
        lo = min(int(a.min()) for a in arrays if a.size)
        hi = max(int(a.max()) for a in arrays if a.size)
        if hi - lo < 1_000_000:
            present = np.zeros(hi - lo + 1, dtype=bool)
            for a in arrays:
                if not a.size:
                    continue
                idx = a if lo == 0 and a.dtype == np.int64 else a.astype(np.int64) - lo
                present |= np.bincount(idx, minlength=hi - lo + 1) > 0
            vals = np.flatnonzero(present) + lo
            return Codes(_int_lut_codes(arrays, vals.astype(float), what), [str(int(v)) for v in vals], True, True)
    if all(_numeric(a) for a in arrays):
        fl = [a.astype(float) for a in arrays]
        allv = np.concatenate(fl) if fl else np.zeros(0)
        finite = allv[~np.isnan(allv)]
        if finite.size and np.all(finite == np.round(finite)) and finite.max() - finite.min() < 1_000_000:
            lo = int(finite.min())
            present = np.bincount((finite - lo).astype(np.int64)) > 0
            vals = np.flatnonzero(present) + lo
            lut = np.cumsum(present) - 1
            out = []
            for a in fl:
                c = np.full(a.shape, np.nan)
                ok = ~np.isnan(a)
                c[ok] = lut[(a[ok] - lo).astype(np.int64)]
                out.append(c)
            return Codes(out, [str(int(v)) for v in vals], True, True)
        vals = np.unique(finite)
        out = []
        for a in fl:
            c = np.full(a.shape, np.nan)
            ok = ~np.isnan(a)
            c[ok] = np.searchsorted(vals, a[ok])
            out.append(c)
        return Codes(out, [canonical_label(v) or "" for v in vals], True, True)

    # object / string labels
    labels: set[str] = set()
    facts = []
    for arr in arrays:
        f, uniques = pd.factorize(pd.Series(arr, dtype=object), use_na_sentinel=True)
        can = [canonical_label(v) for v in uniques]
        labels.update(c for c in can if c is not None)
        facts.append((f, can))
    numeric = all(_is_number(v) for v in labels)
    if numeric:
        lv = sorted(labels, key=float)
    else:
        if need_order:
            raise MetricInputError(
                f"{what} needs the order of the labels, and string labels {sorted(labels)[:10]} have no order "
                "metajudge may infer (alphabetical order is not the scale order). Pass levels=[...] in the "
                "scale's order, e.g. levels=['poor', 'fair', 'good', 'great']."
            )
        lv = sorted(labels)
    index = {v: i for i, v in enumerate(lv)}
    out = []
    for f, can in facts:
        m = np.array([np.nan if c is None else index[c] for c in can] + [np.nan], dtype=float)
        out.append(m[np.where(f < 0, len(can), f)])
    return Codes(out, lv, True, numeric)


def pair_codes(reference: Any, candidate: Any, *, levels: Sequence[Any] | None, need_order: bool,
               what: str, clusters: Any = None) -> tuple[np.ndarray, np.ndarray, Codes, np.ndarray | None, int]:
    """Encode a (reference, candidate) pair and drop pairs with a missing side **jointly**.

    Returns ``(ref_codes, cand_codes, codes_info, cluster_index_or_None, n_dropped)``.
    """
    r = to_1d(reference, "reference")
    c = to_1d(candidate, "candidate")
    if len(r) != len(c):
        raise MetricInputError(
            f"{what}: reference and candidate must have the same length (one pair per row); got {len(r)} and {len(c)}."
        )
    cl = None
    if clusters is not None:
        cl_arr = to_1d(clusters, "clusters")
        if len(cl_arr) != len(r):
            raise MetricInputError(f"{what}: clusters must have one entry per row; got {len(cl_arr)} for {len(r)} rows.")
        cl = cl_arr
    info = encode([r, c], levels=levels, need_order=need_order, what=what, as_int=True)
    rc, cc = info.codes
    if rc.dtype.kind in "iu" and cc.dtype.kind in "iu":  # integer fast path: nothing is missing
        cidx = pd.factorize(pd.Series(cl, dtype=object))[0] if cl is not None else None
        return rc, cc, info, cidx, 0
    ok = ~(np.isnan(rc) | np.isnan(cc))
    dropped = int((~ok).sum())
    cidx = None
    if cl is not None:
        cidx = pd.factorize(pd.Series(cl[ok], dtype=object))[0]
    return rc[ok].astype(np.int64), cc[ok].astype(np.int64), info, cidx, dropped


def dropped_note(dropped: int) -> str:
    return f"{dropped} pair(s) with a missing value on either side left out" if dropped else ""


def join_notes(*notes: str) -> str:
    return "; ".join(n for n in notes if n)
