"""Sharded judgment logs: reduce each shard to count tables (in this process or on Dask workers), finish centrally.

Agreement metrics for two raters are functions of the K×K table of (reference, judge) codes, and tables are
additive: the table of the whole log is the sum of its shards' tables. This module reads each Parquet shard
(pyarrow, only the needed columns; labels are classified once per distinct value), turns it into

- a K×K table, for a *joined log* (one row per judgment with both the human and the judge label), or
- per-item cell counts (sparse: item × cell), for a judge log joined with a gold set by item id, so that items
  with several rows (repeats, both orders) are still resampled whole,

and sums them. The metrics, intervals and the count-based leniency probe are then computed once from the
sums, with the same code and the same seed whichever engine did the reading, so ``engine="local"`` and
``engine="dask"`` give identical numbers.

Engines: ``"local"`` (default; no extra dependency) maps shards in this process; ``"dask"`` maps them on a
``dask.distributed`` cluster (``pip install "metajudge[dask]"``): an existing ``client``, a ``scheduler``
address, or else a :class:`~dask.distributed.LocalCluster` started for the call.
"""

from __future__ import annotations

import glob
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import ConfigError, InputError, ScaleError
from .estimate import Estimate
from .scales import Scale

__all__ = ["ENGINES", "shard_paths", "map_shards", "joined_shard_table", "agreement_from_table",
           "agreement_from_shards", "ShardedAgreement", "judge_shard_cells", "run_sharded", "is_sharded"]

ENGINES = ("local", "dask")


# ------------------------------------------------------------------------------------------------ shards
def _judge_path(cfg: Any, j: Any) -> Any:
    base = getattr(cfg, "base_dir", None)
    if j.path and not Path(j.path).is_absolute() and base:
        return Path(base) / j.path
    return j.path


def is_sharded(cfg: Any) -> bool:
    """Whether any judge of a config names a folder or a glob (Parquet shards) instead of one file."""
    for j in cfg.judges:
        p = _judge_path(cfg, j)
        if p and (Path(p).is_dir() or (not Path(p).exists() and any(ch in str(p) for ch in "*?["))):
            return True
    return False


def shard_paths(spec: str | Path | Sequence[str | Path]) -> list[Path]:
    """The Parquet shards named by a folder (its ``*.parquet`` files, recursively), a glob, a file, or a list of
    those; sorted by path so every engine sees the same order."""
    if isinstance(spec, (list, tuple)):
        out = [p for s in spec for p in shard_paths(s)]
        return sorted(dict.fromkeys(out))
    p = Path(spec).expanduser()
    if p.is_dir():
        files = sorted(p.rglob("*.parquet"))
        if not files:
            raise InputError(f"{str(p)!r} holds no .parquet files; give a folder of Parquet shards, a glob "
                             "such as 'logs/part-*.parquet', or a file.")
        return files
    if p.is_file():
        return [p]
    files = sorted(Path(f) for f in glob.glob(str(p), recursive=True))
    if not files:
        raise InputError(f"no shard matches {str(spec)!r}; give a folder of Parquet shards, a glob or a file.")
    return files


def _dask_client(client: Any = None, scheduler: str | None = None) -> tuple[Any, Callable[[], None]]:
    if client is not None:
        return client, lambda: None
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ConfigError("engine 'dask' needs dask.distributed: pip install \"metajudge[dask]\" (or use the "
                          "default local engine).") from exc
    if scheduler:
        c = Client(scheduler)
        return c, c.close
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = Client(cluster)

    def close() -> None:
        c.close()
        cluster.close()

    return c, close


def map_shards(fn: Callable[..., Any], paths: Sequence[Path], *, engine: str = "local", client: Any = None,
               scheduler: str | None = None, progress: Any = None, threads: int = 1, **kwargs: Any) -> list[Any]:
    """``[fn(path, **kwargs) for path in paths]``, in this process or on Dask workers (results in path order).

    ``threads`` > 1 runs the local engine's shards in a thread pool (pyarrow and NumPy release the GIL); the
    results are the same, in path order."""
    if engine not in ENGINES:
        raise ConfigError(f"engine must be one of {ENGINES}; got {engine!r}.")
    if engine == "local":
        if threads > 1 and len(paths) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=threads) as pool:
                out = list(pool.map(lambda p: fn(p, **kwargs), paths))
            if progress is not None:
                for p in paths:
                    progress.step(Path(p).name)
            return out
        out = []
        for p in paths:
            out.append(fn(p, **kwargs))
            if progress is not None:
                progress.step(Path(p).name)
        return out
    c, close = _dask_client(client, scheduler)
    try:
        # large arguments (the gold items and reference codes) go to every worker once, not with each task
        # (lists travel as arrays: dask would read a list argument as a graph of tasks)
        kw = {k: np.asarray(v, dtype=object) if isinstance(v, list) else v for k, v in kwargs.items()}
        kw = {k: c.scatter(v, broadcast=True) if hasattr(v, "__len__") and not isinstance(v, (str, dict, Scale))
              and len(v) > 1000 else v for k, v in kw.items()}
        futures = c.map(fn, [str(p) for p in paths], pure=False, **kw)
        out = c.gather(futures)
    finally:
        close()
    if progress is not None:
        for p in paths:
            progress.step(Path(p).name)
    return list(out)


def _read_columns(path: str | Path, columns: Sequence[str], dictionary: Sequence[str] | None = None,
                  text: Sequence[str] = ()) -> Any:
    """Only ``columns`` of a Parquet, CSV/TSV or JSONL file, read by pyarrow with strings dictionary-encoded
    (labels then cost one classification per distinct value, and a byte or two per row). ``text`` columns of
    a CSV are kept as text (ids such as "007"); CSV cells spelled as missing (empty, NA, N/A, ...) are null, as
    pandas reads them."""
    import pyarrow as pa

    suffix = "".join(Path(str(path)).suffixes[-2:]).lower()
    cols = list(columns)
    dict_cols = cols if dictionary is None else [c for c in cols if c in dictionary]
    try:
        if suffix.endswith((".csv", ".tsv", ".csv.gz", ".tsv.gz")):
            import pyarrow.csv as pcsv

            types = {c: pa.dictionary(pa.int32(), pa.string()) for c in dict_cols}
            types.update({c: pa.string() for c in text})
            t = pcsv.read_csv(str(path), parse_options=pcsv.ParseOptions(delimiter="\t" if ".tsv" in suffix else ","),
                              convert_options=pcsv.ConvertOptions(include_columns=cols, column_types=types,
                                                                  strings_can_be_null=True))
        elif suffix.endswith((".jsonl", ".ndjson")):
            import pyarrow.json as pjson

            t = pjson.read_json(str(path)).select(cols)
        else:
            import pyarrow.parquet as pq

            t = pq.read_table(str(path), columns=cols, read_dictionary=dict_cols)
    except (KeyError, ValueError, pa.ArrowInvalid) as exc:
        raise InputError(f"shard {str(path)!r}: could not read columns {cols} ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}).") from exc
    return t


def _arrow_codes(scale: Scale, column: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes as int16 with -1 where unusable, missing mask, out-of-scale mask) of a pyarrow column: it is
    dictionary-encoded (if it is not already) and only the dictionary is classified."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ca = column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])
    if pa.types.is_integer(ca.type) and len(ca) and ca.null_count == 0:
        # integer labels: a lookup table over the value range, no dictionary encoding
        vals = np.concatenate([ch.to_numpy() for ch in ca.chunks]) if ca.num_chunks > 1 else ca.chunk(0).to_numpy()
        lo, hi = int(vals.min()), int(vals.max())
        if hi - lo < 1 << 16 and -(1 << 62) < lo and hi < 1 << 62:
            uniq = np.arange(lo, hi + 1)
            uc, ubad = scale.classify(uniq.tolist())
            lut = np.where(np.isnan(uc), -1, uc).astype(np.int16)
            off = (vals.astype(np.int64) - lo).astype(np.intp)
            codes = lut[off]
            bad = ubad[off]
            return codes, np.zeros(len(codes), dtype=bool), bad
    if not pa.types.is_dictionary(ca.type):
        ca = pc.dictionary_encode(ca)
    ca = ca.unify_dictionaries()
    if ca.num_chunks == 0 or len(ca) == 0:
        z = np.zeros(0, dtype=bool)
        return np.zeros(0, dtype=np.int16), z, z
    dictionary = ca.chunk(0).dictionary.to_pylist()
    idx = np.concatenate([ch.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
                          for ch in ca.chunks])
    dc, dbad = scale.classify(dictionary) if dictionary else (np.zeros(0), np.zeros(0, dtype=bool))
    lut = np.append(np.where(np.isnan(dc), -1, dc), -1).astype(np.int16)  # index -1 -> the appended -1
    badlut = np.append(dbad, False)
    codes = lut[idx]
    bad = badlut[idx]
    return codes, (codes < 0) & ~bad, bad


def _codes(scale: Scale, col: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes as int16 with -1 where unusable, missing mask, out-of-scale mask)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = list(col.cat.categories)
        cc, cbad = scale.classify(cats) if cats else (np.zeros(0), np.zeros(0, dtype=bool))
        idx = col.cat.codes.to_numpy()
        codes = np.where(idx >= 0, cc[np.maximum(idx, 0)] if len(cc) else np.nan, np.nan)
        bad = np.where(idx >= 0, cbad[np.maximum(idx, 0)] if len(cbad) else False, False)
    else:
        codes, bad = scale.classify(col)
    missing = np.isnan(codes) & ~bad
    out = np.where(np.isnan(codes), -1, codes).astype(np.int16)
    return out, missing, bad


def _unique_counts(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique values of an integer array and their counts (one sort; faster than ``np.unique`` on
    tens of millions of values)."""
    s = np.sort(a, kind="stable") if a.dtype.kind in "iu" else np.sort(a)
    if s.size == 0:
        return s, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    counts = np.diff(np.r_[starts, s.size])
    return s[starts], counts.astype(np.int64)


# ------------------------------------------------------------------------------------ joined logs (P10)
def joined_shard_table(path: str | Path, *, reference: str, candidate: str, scale: Scale) -> dict[str, Any]:
    """One shard of a joined log -> its K×K table (reference × candidate codes) and the rows left out."""
    sc = scale
    t = _read_columns(path, [reference, candidate])
    fast = _integer_pair_table(sc, t.column(reference), t.column(candidate))
    if fast is not None:
        return {**fast, "rows": t.num_rows}
    r, r_miss, r_bad = _arrow_codes(sc, t.column(reference))
    c, c_miss, c_bad = _arrow_codes(sc, t.column(candidate))
    k = sc.n_levels
    ok = (r >= 0) & (c >= 0)
    cell = r.astype(np.int32)
    cell *= k
    cell += c
    cell[~ok] = k * k  # one overflow bin for the rows left out
    table = np.bincount(cell, minlength=k * k + 1)[: k * k].reshape(k, k)
    return {"table": table, "rows": t.num_rows, "missing_reference": int(r_miss.sum()),
            "missing_candidate": int(c_miss.sum()), "out_of_scale_reference": int(r_bad.sum()),
            "out_of_scale_candidate": int(c_bad.sum()), "left_out": int((~ok).sum())}


def _integer_lut(scale: Scale, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1: not on the scale) and out-of-scale flags of the integers lo..hi."""
    uc, ubad = scale.classify(list(range(lo, hi + 1)))
    return np.where(np.isnan(uc), -1, uc).astype(np.int16), np.asarray(ubad, dtype=bool)


def _integer_pair_table(scale: Scale, ref: Any, cand: Any) -> dict[str, Any] | None:
    """The K×K table of two integer columns without nulls, in cache-sized blocks (no per-row temporaries
    the size of the shard); ``None`` for other columns."""
    import pyarrow as pa

    cols = []
    for col in (ref, cand):
        if not pa.types.is_integer(col.type) or col.null_count:
            return None
        v = np.concatenate([ch.to_numpy() for ch in col.chunks]) if col.num_chunks != 1 else col.chunk(0).to_numpy()
        cols.append(v)
    r, c = cols
    if not len(r):
        return None
    lo, hi = int(min(r.min(), c.min())), int(max(r.max(), c.max()))
    if hi - lo >= 1 << 16 or lo <= -(1 << 62) or hi >= 1 << 62:
        return None
    if r.dtype.kind == "u" or c.dtype.kind == "u":
        r, c = r.astype(np.int64), c.astype(np.int64)
    lut, bad = _integer_lut(scale, lo, hi)
    k = scale.n_levels
    out = np.zeros(k * k + 1, dtype=np.int64)
    n_rbad = n_cbad = 0
    step = 1 << 18
    if np.array_equal(lut, np.arange(len(lut))):
        # every value is on the scale and its code is value - lo: count the pairs directly
        for start in range(0, len(r), step):
            cell = r[start:start + step].astype(np.intp)
            cell -= lo
            cell *= k
            cell += c[start:start + step]
            cell -= lo
            out[: k * k] += np.bincount(cell, minlength=k * k)
        return {"table": out[: k * k].reshape(k, k), "missing_reference": 0, "missing_candidate": 0,
                "out_of_scale_reference": 0, "out_of_scale_candidate": 0, "left_out": 0}
    for start in range(0, len(r), step):
        ro = r[start:start + step].astype(np.intp) - lo
        co = c[start:start + step].astype(np.intp) - lo
        rc, cc = lut[ro], lut[co]
        n_rbad += int(bad[ro].sum())
        n_cbad += int(bad[co].sum())
        cell = rc.astype(np.intp) * k + cc
        cell[(rc < 0) | (cc < 0)] = k * k  # one overflow bin for the rows left out
        out += np.bincount(cell, minlength=k * k + 1)
    return {"table": out[: k * k].reshape(k, k), "missing_reference": 0, "missing_candidate": 0,
            "out_of_scale_reference": n_rbad, "out_of_scale_candidate": n_cbad, "left_out": int(out[k * k])}


def agreement_from_table(table: np.ndarray, metrics: Sequence[str], scale: Scale, *, confidence_level: float = 0.95,
                         n_resamples: int = 1000, seed: Any = 0) -> dict[str, Estimate]:
    """Every metric of ``metrics`` from a K×K table of independent items, with intervals: Wilson for
    proportions, else the multinomial bootstrap of the table (``Multinomial(n, table / n)``, METRICS.md §3).

    Identical to :func:`metajudge.table_estimates` on the rows the table counts (same seed, same numbers)."""
    from .metrics.agreement import estimates_from_table

    ctx = {"values": scale.level_values(), "positive": scale.positive_index if scale.kind == "binary" else 1}
    return estimates_from_table(np.asarray(table, dtype=float), list(metrics), ctx, confidence_level=confidence_level,
                                n_resamples=n_resamples, rng=seed)


@dataclass
class ShardedAgreement:
    """Result of :func:`agreement_from_shards`."""

    estimates: dict[str, Estimate]
    table: np.ndarray
    counts: dict[str, int]
    shards: int

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"metric": e.metric, "estimate": e.estimate, "ci_low": e.ci_low, "ci_high": e.ci_high,
                              "n": e.n, "method": e.method, "note": e.note} for e in self.estimates.values()])


def agreement_from_shards(shards: Any, *, reference: str, candidate: str, scale: Scale,
                          metrics: Sequence[str] | None = None, engine: str = "local", client: Any = None,
                          scheduler: str | None = None, confidence_level: float = 0.95, n_resamples: int = 1000,
                          seed: Any = 0) -> ShardedAgreement:
    """Agreement of two label columns of a joined log held in Parquet shards (one row per independent item).

    Each shard is reduced to its K×K table where it is read (``engine``); the tables are summed and every
    metric and interval is computed once from the sum. Rows with a missing or out-of-scale label on either side
    are counted (``counts``) and left out.
    """
    from .metrics import DEFAULT_TABLE_METRICS

    paths = shard_paths(shards)
    if not scale.categorical:
        raise ConfigError("agreement_from_shards needs a categorical scale (binary, nominal, ordinal, pairwise).")
    names = list(metrics) if metrics is not None else list(DEFAULT_TABLE_METRICS[scale.kind])
    parts = map_shards(joined_shard_table, paths, engine=engine, client=client, scheduler=scheduler,
                       threads=min(4, os.cpu_count() or 1), reference=reference, candidate=candidate, scale=scale)
    table = np.sum([p["table"] for p in parts], axis=0)
    counts = {key: int(sum(p[key] for p in parts)) for key in parts[0] if key != "table"}
    est = agreement_from_table(table, names, scale, confidence_level=confidence_level, n_resamples=n_resamples,
                               seed=seed)
    return ShardedAgreement(est, table, counts, len(paths))


# ------------------------------------------------------------------------- judge logs against a gold set
def _lookup(items: Any, gold_items: Any) -> np.ndarray:
    """Position of each item id in ``gold_items`` (sorted distinct pyarrow strings), -1 where absent."""
    import pyarrow as pa

    arr = items if isinstance(items, (pa.Array, pa.ChunkedArray)) else pa.array(np.asarray(items, dtype=object))
    arr = _lookup_strings(arr)
    return _sorted_lookup(arr, gold_items)


def _fast_columns(judge: Mapping[str, Any]) -> tuple[str, str] | None:
    """(item column, label column) when a judge's rows can be read column-wise with pyarrow: one item column,
    a label column, no verdict extraction and nothing that needs the full reader."""
    cols = judge.get("columns") or {}
    item, label = cols.get("item", "item_id"), cols.get("label")
    if (not isinstance(item, str) or not label or cols.get("text") or cols.get("order") or cols.get("repeat")
            or judge.get("extract") or judge.get("dataset") or judge.get("unparseable") not in (None, "exclude")):
        return None
    return item, label


def judge_shard_cells(path: str | Path, *, judge: dict[str, Any], base_dir: str | None, gold_items: Any,
                      ref_codes: np.ndarray, scale: Scale) -> dict[str, Any]:
    """One shard of a judge's outputs -> sparse per-item cell counts against the gold reference.

    A judge with a label column is read column-wise with pyarrow (dictionary-encoded labels, a sorted join of
    its item ids with the gold items); otherwise the shard is read and parsed with the judge's full config
    (column mapping, verdict extraction). Labels are classified on the scale. Returns ``keys`` (item index ×
    K² + reference × K + judge code, unique) with ``counts``, and the rows left out by reason."""
    import pyarrow as pa
    import pyarrow.compute as pc

    sc = scale
    k = sc.n_levels
    fast = _fast_columns(judge) if Path(str(path)).suffix.lower() in (".parquet", ".csv", ".tsv", ".jsonl") else None
    t = ids = None
    if fast is not None:
        try:
            t = _read_columns(path, list(dict.fromkeys(fast)), dictionary=[fast[1]], text=[fast[0]])
            ids = _normalized_ids(t.column(fast[0]))
        except InputError:
            t = None  # e.g. JSONL with mixed types: the full reader copes or explains
    if t is not None and ids is not None:
        codes, missing, bad = _arrow_codes(sc, t.column(fast[1]))
        idx = _lookup(ids, gold_items)
        parse_ok = np.ones(len(idx), dtype=bool)
        n_rows = t.num_rows
        dup = _first_seen_duplicates(idx, ids)
        absent = idx < 0
        extra = sorted(set(pc.unique(pc.filter(ids, pa.array(absent))).to_pylist())) if absent.any() else []
        n_fallback = 0
    else:
        from .config import JudgeConfig
        from .io import load_judge

        jc = JudgeConfig.model_validate({**judge, "path": str(path)})
        df = load_judge(jc, base_dir)
        key = ["item_id"] + [c for c in ("order", "repeat") if c in df and df[c].notna().any()]
        dup = df.duplicated(key, keep="first").to_numpy()
        parse_ok = df["parse_ok"].to_numpy(dtype=bool) if "parse_ok" in df else np.ones(len(df), dtype=bool)
        labels = df["label"].astype(object).copy()
        fb = jc.unparseable
        n_fallback = 0
        if fb != "exclude" and getattr(fb, "fallback", None) is not None:
            labels[~parse_ok & ~dup] = fb.fallback
            n_fallback = int((~parse_ok & ~dup).sum())
            parse_ok = np.ones(len(df), dtype=bool)
        codes, missing, bad = _codes(sc, labels)
        if sc.kind == "pairwise" and jc.order_frame == "shown" and "order" in df:
            # verdicts about the shown slots: a BA row's A is the item's B (as align does)
            swap = (df["order"] == "BA").to_numpy() & (codes >= 0)
            codes = np.where(swap, (sc.n_levels - 1) - codes, codes).astype(np.int16)
        idx = _lookup(df["item_id"].astype(str).to_numpy(dtype=object), gold_items)
        n_rows = len(df)
        extra = sorted(set(df.loc[idx < 0, "item_id"].astype(str)))
    parse_ok = parse_ok & ~dup
    out = _cells_from_rows(idx, codes, missing & ~dup, bad & ~dup, parse_ok | dup, np.asarray(ref_codes), k, n_rows,
                           extra, usable_mask=~dup)
    out["duplicate_rows"] = int(dup.sum())
    out["fallback_rows"] = n_fallback
    out["unparseable"] += n_fallback  # counted as unparseable and scored as the fallback, as align does
    return out


def _first_seen_duplicates(idx: np.ndarray, ids: Any) -> np.ndarray:
    """Rows whose item already occurred earlier in the shard (the first row of an item is kept, as align does;
    rows outside the gold set are compared by id)."""
    inside = idx >= 0
    dup = np.zeros(len(idx), dtype=bool)
    if inside.any():
        # block by block against a mask of the gold items met so far: memory stays a byte per gold item
        met = np.zeros(int(idx.max()) + 1, dtype=bool)
        step = 1 << 20
        for start in range(0, len(idx), step):
            i = idx[start:start + step]
            pos = np.flatnonzero(i >= 0)
            if not pos.size:
                continue
            iv = i[pos]
            _, first = np.unique(iv, return_index=True)
            d = np.ones(len(pos), dtype=bool)
            d[first] = False          # later rows of an item within the block
            d |= met[iv]              # rows of an item met in an earlier block
            dup[start + pos[d]] = True
            met[iv] = True
    if (~inside).any():
        import pyarrow as pa

        outside = np.flatnonzero(~inside)
        names = ids.take(pa.array(outside)).to_pylist()
        seen: set[str] = set()
        for p, name in zip(outside, names):
            if name in seen:
                dup[p] = True
            seen.add(name)
    return dup


def _cells_from_rows(idx: np.ndarray, codes: np.ndarray, missing: np.ndarray, bad: np.ndarray,
                     parse_ok: np.ndarray, ref_codes: np.ndarray, k: int, n_rows: int,
                     extra: list[str], usable_mask: np.ndarray | None = None) -> dict[str, Any]:
    """Sparse per-item cell counts of one shard, built in blocks of rows so that memory stays a few bytes per
    row: sorted unique keys (gold item × K² + reference × K + judge code) with their counts (None: all 1), a
    bit mask of the gold items the shard names, and the rows left out by reason."""
    n_gold, kk = len(ref_codes), k * k
    key_dtype = np.int32 if n_gold * kk < 2**31 - 1 else np.int64
    seen = np.zeros(n_gold, dtype=bool)
    parts = []
    c_usable = c_unparse = c_missing = c_bad = c_undef = 0
    step = 1 << 20
    for start in range(0, len(idx), step):
        sl = slice(start, start + step)
        i, c, po = idx[sl], codes[sl], parse_ok[sl]
        ig = i >= 0
        seen[i[ig]] = True
        r = np.full(len(i), -1, dtype=np.int16)
        r[ig] = ref_codes[i[ig]]
        usable = po & (c >= 0) & ig
        if usable_mask is not None:
            usable &= usable_mask[sl]
        ok = usable & (r >= 0)
        parts.append(i[ok].astype(key_dtype) * kk + r[ok].astype(key_dtype) * k + c[ok].astype(key_dtype))
        c_usable += int(usable.sum())
        c_unparse += int((~po).sum())
        c_missing += int((missing[sl] & po).sum())
        c_bad += int((bad[sl] & po).sum())
        c_undef += int((usable & (r < 0)).sum())
    keys = np.concatenate(parts) if parts else np.zeros(0, dtype=key_dtype)
    del parts
    keys.sort()
    change = keys[1:] != keys[:-1]
    if change.all():
        counts = None  # every key once
    else:
        starts = np.flatnonzero(np.r_[True, change])
        counts = np.diff(np.r_[starts, keys.size]).astype(np.int64)
        keys = keys[starts]
    return {"keys": keys, "counts": counts, "rows": n_rows, "usable_rows": c_usable,
            "seen": np.packbits(seen), "n_gold": n_gold, "extra": extra, "unparseable": c_unparse,
            "missing_label": c_missing, "out_of_scale": c_bad, "reference_undefined": c_undef}


def _normalized_ids(arr: Any) -> Any | None:
    """Item ids as metajudge's readers write them (text stripped of surrounding blanks; integers as digits),
    or ``None`` when that needs the full reader (floats, booleans, other types, or missing/empty ids, which
    the full reader reports)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    typ = arr.type.value_type if pa.types.is_dictionary(arr.type) else arr.type
    if pa.types.is_integer(typ):
        out = _lookup_strings(arr)
    elif pa.types.is_string(typ) or pa.types.is_large_string(typ):
        out = _lookup_strings(arr)
        if pa.types.is_large_string(out.type):
            out = out.cast(pa.string())
        if len(out) and pc.any(pc.match_substring_regex(out, r"^\s|\s$")).as_py():
            out = pc.utf8_trim_whitespace(out)  # a copy, only when some id has blanks around it
    else:
        return None
    if out.null_count or (len(out) and pc.any(pc.equal(out, "")).as_py()):
        return None
    return out


def _lookup_strings(arr: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_string(arr.type):
        return arr  # chunked or not: no copy
    if isinstance(arr, pa.ChunkedArray):
        return pa.chunked_array([_lookup_strings(c) for c in arr.chunks], type=pa.string())
    if pa.types.is_dictionary(arr.type):
        return arr.cast(pa.string())
    return pc.cast(arr, pa.string())


def _sorted_groups(arr: Any) -> tuple[Any, np.ndarray | None, np.ndarray]:
    """(sorted distinct values, index of each row's value among them, sort order) of a pyarrow string array,
    by one sort (a hash table of 10 million distinct strings costs several times the memory of the sort).
    When every value is distinct the index is None: row ``order[p]`` holds the ``p``-th distinct value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(arr)
    if n == 0:
        return arr, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = pc.sort_indices(arr)
    srt = arr.take(order)
    order = order.to_numpy(zero_copy_only=False).astype(np.int64)
    new = np.ones(n, dtype=bool)
    if n > 1:
        new[1:] = pc.not_equal(srt.slice(1), srt.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    if new.all():
        distinct = srt.combine_chunks() if isinstance(srt, pa.ChunkedArray) else srt
        return distinct, None, order
    distinct = srt.filter(pa.array(new))
    del srt
    if isinstance(distinct, pa.ChunkedArray):
        distinct = distinct.combine_chunks()
    group = np.cumsum(new, dtype=np.int64) - 1
    idx = np.empty(n, dtype=np.int64)
    idx[order] = group
    return distinct, idx, order


def _sorted_lookup(items: Any, distinct: Any, chunk: int = 1 << 20) -> np.ndarray:
    """Position of each item in ``distinct`` (sorted, distinct strings), -1 where absent; by binary search in
    chunks, so memory stays bounded whatever the number of rows."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(items)
    m = len(distinct)
    out = np.empty(n, dtype=np.int32 if m < 2**31 - 1 else np.int64)
    for start in range(0, n, chunk):
        part = items.slice(start, min(chunk, n - start))
        if isinstance(part, pa.ChunkedArray):
            part = part.combine_chunks()
        pos = pc.search_sorted(distinct, part).to_numpy(zero_copy_only=False).astype(np.int64) if m else \
            np.zeros(len(part), dtype=np.int64)
        clipped = np.minimum(pos, max(m - 1, 0))
        hit = pc.equal(distinct.take(pa.array(clipped)), part).fill_null(False).to_numpy(zero_copy_only=False) \
            if m else np.zeros(len(part), dtype=bool)
        out[start:start + len(part)] = np.where(hit, clipped, -1)
    return out


def _rater_names(t: Any, cols: Any, valid: np.ndarray) -> list[str]:
    """The annotators with at least one label on the scale (["gold"] without a rater column)."""
    if not cols.rater:
        return ["gold"] if valid.any() else []
    import pyarrow as pa
    import pyarrow.compute as pc

    names = pc.unique(pc.filter(_lookup_strings(t.column(cols.rater)), pa.array(valid))).to_pylist()
    return sorted(str(x).strip() for x in names if x is not None)


def _fast_gold(cfg: Any, scale: Scale) -> dict[str, Any] | None:
    """The gold reference read column-wise with pyarrow, for a long-layout gold file with one item column and a
    label column (and optionally a rater column) without duplicate (item, rater) rows; None otherwise (the
    full reader is used). Returns the gold items (pyarrow strings), reference codes, and counts."""
    g = cfg.gold
    base = getattr(cfg, "base_dir", None)
    cols = g.columns
    if (not g.path or g.layout != "long" or not isinstance(cols.item, str) or cols.label is None or g.slices
            or getattr(g, "dataset", None)):
        return None
    path = Path(g.path) if Path(g.path).is_absolute() or not base else Path(base) / g.path
    if not path.is_file() or path.suffix.lower() not in (".parquet", ".csv", ".tsv", ".jsonl"):
        return None
    names = [cols.item, cols.label] + ([cols.rater] if cols.rater else [])
    try:
        t = _read_columns(path, list(dict.fromkeys(names)), dictionary=[cols.label] + ([cols.rater] if cols.rater else []),
                          text=[cols.item] + ([cols.rater] if cols.rater else []))
    except InputError:
        return None  # a missing column: the full reader names the config key to fix
    items_col = _normalized_ids(t.column(cols.item))
    if items_col is None:
        return None  # empty ids or ids that need the full reader (which explains them)
    gold_items, item_idx, order = _sorted_groups(items_col)
    del items_col
    n_items = len(gold_items)
    codes, missing, bad = _arrow_codes(scale, t.column(cols.label))
    aggregate = g.aggregate or ("median" if scale.kind == "ordinal" else "majority")
    if aggregate not in ("median", "majority"):
        return None  # the full reader raises the right error
    if item_idx is None:
        # one label per item (one annotator, or distinct items): the reference is that label
        ref = codes[order]
        return {"items": gold_items, "ref": ref.astype(np.int16), "humans": _rater_names(t, cols, codes >= 0),
                "n_undef": 0,
                "aggregate": aggregate, "rows": t.num_rows, "out_of_scale": int(bad.sum()),
                "missing_label": int(missing.sum()), "excluded_rows": int((codes < 0).sum()), "source": str(path),
                "defined": int((ref >= 0).sum())}
    del order
    if cols.rater:
        rcol = _lookup_strings(t.column(cols.rater))
        r = (rcol.combine_chunks() if hasattr(rcol, "combine_chunks") else rcol).dictionary_encode()
        rater_idx = r.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64) + 1
        humans = _rater_names(t, cols, codes >= 0)
        n_r = len(r.dictionary) + 1
    else:
        rater_idx = np.zeros(len(item_idx), dtype=np.int64)
        humans, n_r = (["gold"] if (codes >= 0).any() else []), 1
    pair = item_idx * n_r + rater_idx
    if len(_unique_counts(pair)[0]) != len(pair):
        return None  # duplicate (item, rater) rows: the full reader keeps the first and counts them
    k = scale.n_levels
    ok = codes >= 0
    if aggregate == "median":
        order = np.lexsort((codes[ok], item_idx[ok]))
        si, sc_ = item_idx[ok][order], codes[ok][order]
        n_per = np.bincount(si, minlength=n_items)
        start = np.concatenate([[0], np.cumsum(n_per)[:-1]])
        pick = start + (np.maximum(n_per, 1) - 1) // 2
        ref = np.where(n_per > 0, sc_[np.minimum(pick, max(len(sc_) - 1, 0))] if len(sc_) else -1, -1)
        n_undef = 0
    elif aggregate == "majority":
        counts = np.bincount(item_idx[ok] * k + codes[ok], minlength=n_items * k).reshape(n_items, k)
        top = counts.max(axis=1)
        n_top = (counts == top[:, None]).sum(axis=1)
        ref = np.where((top > 0) & (n_top == 1), counts.argmax(axis=1), -1)
        n_undef = int(((top > 0) & (n_top > 1)).sum())
    else:
        return None
    return {"items": gold_items, "ref": ref.astype(np.int16), "humans": humans, "n_undef": n_undef,
            "aggregate": aggregate, "rows": t.num_rows, "out_of_scale": int(bad.sum()),
            "missing_label": int(missing.sum()), "excluded_rows": int((~ok).sum()), "source": str(path),
            "defined": int((ref >= 0).sum())}


@dataclass
class _JudgeCells:
    """Per-item count tables of one judge, sparse: entry e says item ``row[e]`` has ``count[e]`` rows in cell
    ``cell[e]`` (reference × K + judge code); ``items`` are the gold indices of the rows."""

    name: str
    items: np.ndarray | None     # None when ``single``
    row: np.ndarray | None       # None when ``single``
    cell: np.ndarray
    count: np.ndarray | None     # None when ``single`` (every entry is 1)
    k: int
    counts: dict[str, int] = field(default_factory=dict)
    n_items: int = 0
    single: bool = False         # every item has exactly one usable row: its table is one cell

    def table(self) -> np.ndarray:
        w = None if self.count is None else self.count
        return np.bincount(self.cell, weights=w, minlength=self.k * self.k).astype(float).reshape(self.k, self.k)

    def _counts(self) -> np.ndarray:
        return np.ones(len(self.cell)) if self.count is None else self.count

    def _rows(self) -> np.ndarray:
        return np.arange(self.n_items) if self.row is None else self.row

    def dense(self) -> np.ndarray:
        out = np.zeros((self.n_items, self.k * self.k))
        out[self._rows(), self.cell] = self._counts()
        return out

    def patterns(self) -> tuple[np.ndarray, np.ndarray]:
        """``compress_patterns`` of the dense per-item tables, computed from the sparse entries: the same
        patterns in the same order (the row hash of whole-number rows is a sum over the non-zero cells), with
        an exact check that items sharing a hash share their table (else the dense computation)."""
        from .metrics import bootstrap as B

        n, kk = self.n_items, self.k * self.k
        if n < 256 or kk > len(B._HASH_MULT) or (self._counts() != np.round(self._counts())).any():
            return B.compress_patterns(self.dense())
        if self.single:
            # every item's table is one unit cell: the patterns are the occupied unit vectors, in the order of
            # their row hash (1 × multiplier of the cell, then the same final mix as compress_patterns)
            tab = np.bincount(self.cell, minlength=kk)
            occ = np.flatnonzero(tab)
            with np.errstate(over="ignore"):
                h = B._HASH_MULT[occ].copy()
                h ^= h >> np.uint64(31)
            order = np.argsort(h, kind="stable")
            if len(np.unique(h)) != len(h):  # cannot happen with distinct odd multipliers; stay exact anyway
                return B.compress_patterns(self.dense())
            pats = np.zeros((len(occ), kk))
            pats[np.arange(len(occ)), occ[order]] = 1.0
            return pats, tab[occ[order]].astype(np.int64)
        with np.errstate(over="ignore"):
            contrib = self.count.astype(np.int64).view(np.uint64) * B._HASH_MULT[self.cell]
            h = _uint64_group_sum(self._rows(), contrib, n)
            h ^= h >> np.uint64(31)
        _, first, group, sizes = np.unique(h, return_index=True, return_inverse=True, return_counts=True)
        group = group.ravel()
        # exact check: every (group, cell, count) entry occurs once in each item of its group
        rows = self._rows()
        g_e = group[rows]
        key = (g_e.astype(np.int64) * kk + self.cell) * (int(self.count.max()) + 1) + self.count.astype(np.int64)
        uk, mult = _unique_counts(key)
        n_entries = np.bincount(rows, minlength=n)
        same_len = n_entries == n_entries[first][group]
        if not same_len.all() or not np.array_equal(mult, sizes[uk // ((int(self.count.max()) + 1) * kk)]):
            return B.compress_patterns(self.dense())
        rep = np.zeros(n, dtype=bool)
        rep[first] = True
        pats = np.zeros((len(first), kk))
        sel = rep[rows]
        pats[group[rows[sel]], self.cell[sel]] = self.count[sel]
        return pats, sizes.astype(np.int64)


def _uint64_group_sum(row: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Wrapping uint64 sum of ``values`` per ``row`` (rows sorted or not)."""
    order = np.argsort(row, kind="stable")
    r, v = row[order], values[order]
    starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
    with np.errstate(over="ignore"):
        sums = np.add.reduceat(v, starts) if len(v) else np.zeros(0, dtype=np.uint64)
    out = np.zeros(n, dtype=np.uint64)
    out[r[starts]] = sums
    return out


def _merge_cells(name: str, parts: Iterable[Mapping[str, Any]], k: int) -> _JudgeCells:
    parts = list(parts)
    kk = k * k
    if len(parts) == 1:  # one shard: its keys are already unique and sorted
        uk = parts[0]["keys"]
        total = parts[0]["counts"]
    else:
        keys = np.concatenate([p["keys"] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
        cnts = np.concatenate([p["counts"] if p["counts"] is not None else np.ones(len(p["keys"]), dtype=np.int64)
                               for p in parts]) if parts else np.zeros(0, dtype=np.int64)
        uk, inv = np.unique(keys, return_inverse=True)
        total = np.bincount(inv.ravel(), weights=cnts, minlength=len(uk)).astype(np.int64)
        del keys, cnts, inv
    item = uk // kk
    cell = (uk % kk).astype(np.int16 if kk < 2**15 else np.int64)
    change = item[1:] != item[:-1]
    n_items = int(change.sum()) + 1 if len(item) else 0
    single = n_items == len(item) and (total is None or bool((total == 1).all()))
    if single:  # one usable row per item: no per-item arrays are needed
        items = row = None
    else:
        items = item[np.flatnonzero(np.r_[True, change])]
        row = np.cumsum(np.r_[True, change]) - 1
    del item, change
    count = None if single else (np.ones(len(cell)) if total is None else np.asarray(total, dtype=float))
    counts = {key: int(sum(p.get(key, 0) for p in parts)) for key in (
        "rows", "usable_rows", "unparseable", "missing_label", "out_of_scale", "reference_undefined",
        "duplicate_rows", "fallback_rows")}
    seen = np.zeros(parts[0]["n_gold"], dtype=bool) if parts else np.zeros(0, dtype=bool)
    for p in parts:
        seen |= np.unpackbits(p["seen"], count=p["n_gold"]).astype(bool)
    extra = set().union(*[set(p["extra"]) for p in parts]) if parts else set()
    counts.update({"items_seen": int(seen.sum()), "missing_in_gold": len(extra)})
    return _JudgeCells(name, items, None if row is None else row.astype(np.int64), cell.astype(np.int64)
                       if not single else cell, count, k, counts, n_items=n_items, single=single)


def run_sharded(cfg: Any, *, engine: str = "local", client: Any = None, scheduler: str | None = None,
                seed: int | None = None, n_resamples: int | None = None, quiet: bool = True) -> Any:
    """The count-table analysis of a config whose judges are Parquet shards: agreement of every judge with
    the gold reference (all table metrics, clustered by item), the confusion tables, coverage, and the
    leniency probe's count-based rows; one :class:`~metajudge.results.Analysis`.

    Shards are reduced where they are read (``engine``); identical inputs and seed give identical numbers on
    every engine. The gold set is read here (it is small); each judge's ``path`` is a folder of Parquet
    shards, a glob or a file. What needs every row (the human ceiling, slices, paired judge comparisons, the
    position / length / self-preference probes) is not computed on this path; the run's notes say so.
    """
    from .align import aggregate_values
    from .analysis import Progress, _row, _table_estimate
    from .config import config_to_dict
    from .io import load_gold
    from .metrics import DEFAULT_TABLE_METRICS, TABLE_METRICS
    from .metrics.bootstrap import as_generator, resample_sums
    from .pipeline import versions
    from .results import Analysis

    scale = cfg.scale.to_scale()
    if scale.categorical and scale.levels is None:
        raise ConfigError(f"the sharded engines need the {scale.kind} scale's levels declared (scale.levels), "
                          "because shards are coded where they are read, before all labels are seen.")
    if not scale.categorical:
        raise ConfigError("the sharded engines need a categorical scale (binary, nominal, ordinal or pairwise): "
                          "interval scores have no count table. Use the default analysis (no --engine).")
    base = getattr(cfg, "base_dir", None)
    fg = _fast_gold(cfg, scale)
    import pyarrow as pa

    from .io import sha256_of

    if fg is not None:
        gsrc, aggregate, n_undef, humans = fg["source"], fg["aggregate"], fg["n_undef"], fg["humans"]
        gold_items, ref_codes = fg["items"], fg["ref"]
        n_gold_items, n_defined = len(gold_items), fg["defined"]
        gold_cov = {"rows": fg["rows"], "out_of_scale": fg["out_of_scale"], "missing_label": fg["missing_label"],
                    "excluded_rows": fg["excluded_rows"]}
        gold_sha = sha256_of(gsrc)
    else:
        gold = load_gold(cfg.gold, base)
        gsrc = str(gold.attrs.get("source", cfg.gold.path or "gold"))
        gold_sha = gold.attrs.get("sha256")
        g = gold.copy()
        g["item_id"] = g["item_id"].astype(str)
        dup = g.duplicated(["item_id", "rater"], keep="first").to_numpy()  # the first row kept, as align does
        gcodes, gbad = scale.classify(g["label"])
        g["value"] = gcodes
        g_ok = g[~np.isnan(gcodes) & ~dup]
        aggregate = cfg.gold.aggregate or ("median" if scale.kind == "ordinal" else "majority")
        if aggregate == "mean":
            raise ScaleError("aggregate: mean needs an interval scale; use majority or median for categories.")
        ref, n_undef = aggregate_values(g_ok["value"], g_ok["item_id"], aggregate, scale)
        items = pd.Index(sorted(g["item_id"].unique()))
        ref = ref.reindex(items)
        ref_codes = np.where(ref.isna(), -1, ref.fillna(-1)).astype(np.int16)
        gold_items = pa.array(items.to_numpy(dtype=object), type=pa.string())
        humans = sorted(g_ok["rater"].astype(str).unique())
        n_gold_items, n_defined = len(items), int(ref.notna().sum())
        gold_cov = {"rows": len(g), "out_of_scale": int(gbad.sum()), "duplicate_rows": int(dup.sum()),
                    "missing_label": int((np.isnan(gcodes) & ~gbad).sum()) + int(gold.attrs.get("missing_cells", 0) or 0),
                    "excluded_rows": int(len(g) - len(g_ok))}
    ref_name = f"{aggregate}(humans)" if len(humans) > 1 else (humans[0] if humans else "gold")
    k = scale.n_levels
    names = list(cfg.metrics) if cfg.metrics else list(DEFAULT_TABLE_METRICS[scale.kind])
    names = [m for m in names if m in TABLE_METRICS]
    boot = cfg.bootstrap
    seed = boot.seed if seed is None else seed
    n_res = boot.n_resamples if n_resamples is None else n_resamples
    cl = boot.confidence_level
    rng = as_generator(seed)
    ctx = {"values": scale.level_values(), "positive": scale.positive_index if scale.kind == "binary" else 1}

    missing = [j.name for j in cfg.judges if not j.path]
    if missing:
        raise ConfigError(f"the sharded engines read judges from Parquet files; judge(s) {missing} have no path.")
    shard_lists = {j.name: shard_paths(_judge_path(cfg, j)) for j in cfg.judges}
    prog = Progress(sum(len(v) for v in shard_lists.values()) + len(cfg.judges), quiet, "metajudge")
    rows: list[dict[str, Any]] = []
    confusion: dict[str, pd.DataFrame] = {}
    coverage = [{"source": "gold", "kind": "gold", "path": gsrc, "rows": gold_cov["rows"], "items": n_gold_items,
                 "matched_items": n_defined, "missing_in_gold": 0, "missing_in_judge": 0,
                 "duplicate_rows": gold_cov.get("duplicate_rows", 0), "unparseable": 0,
                 "out_of_scale": gold_cov["out_of_scale"],
                 "missing_label": gold_cov["missing_label"], "excluded_rows": gold_cov["excluded_rows"],
                 "fallback_rows": 0, "reference_undefined": n_gold_items - n_defined}]
    inputs = {gsrc: gold_sha}
    lenient: list[dict[str, Any]] = []
    for j in cfg.judges:
        jd = j.model_dump(mode="json", exclude={"path"})
        parts = map_shards(judge_shard_cells, shard_lists[j.name], engine=engine, client=client,
                           scheduler=scheduler, progress=prog, judge=jd, base_dir=str(base) if base else None,
                           gold_items=gold_items, ref_codes=ref_codes, scale=scale)
        jc = _merge_cells(j.name, parts, k)
        n_items = jc.n_items
        pt = jc.table()
        n_rows = int(pt.sum())
        if n_res > 0 and n_items:
            pats, mult = jc.patterns()
            rp = resample_sums(pats, mult, n_res, rng).reshape(-1, k, k)
        else:
            rp = np.zeros((0, k, k))
        for m in names:
            e = _table_estimate(m, ctx, pt, rp, n_items, n_rows, cl, n_res)
            rows.append(_row("agreement", j.name, "judge", ref_name, e))
        confusion[j.name] = pd.DataFrame(pt.astype(int), index=list(scale.levels or []),
                                         columns=list(scale.levels or []))
        c = jc.counts
        coverage.append({"source": j.name, "kind": "judge", "path": f"{len(shard_lists[j.name])} Parquet shard(s)",
                         "rows": c["rows"], "items": c["items_seen"] + c["missing_in_gold"],
                         "matched_items": n_items, "missing_in_gold": c["missing_in_gold"],
                         "missing_in_judge": n_gold_items - c["items_seen"], "duplicate_rows": c["duplicate_rows"],
                         "unparseable": c["unparseable"], "out_of_scale": c["out_of_scale"],
                         "missing_label": c["missing_label"],
                         "excluded_rows": c["rows"] - c["usable_rows"], "fallback_rows": c["fallback_rows"],
                         "reference_undefined": 0})
        if scale.kind in ("ordinal", "binary") and n_items:
            lenient.append(_leniency_from_cells(j.name, jc, scale, ref_name, cl))
        for p in shard_lists[j.name]:
            inputs[str(p)] = sha256_of(p)
        prog.step(j.name)
    rows += [r for block in lenient for r in block]
    from .analysis import RESULT_COLUMNS, _holm

    res = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    res["probe"] = res["probe"].fillna("")
    res = _holm(res)
    notes = [f"sharded count-table engine ({engine}): every judge's shards were reduced to per-item count tables "
             "where they were read and summed; the human ceiling, slices, paired judge comparisons and the "
             "position, length and self-preference probes need every row and are not computed on this path "
             "(run without --engine on data that fits in memory for them); duplicate rows are found within "
             "each shard (the first kept, as the in-memory analysis does), not across shards"]
    if n_undef:
        notes.append(f"{n_undef} item(s) have no {aggregate} human label (a tie among annotators) and are left out")
    prov = {"versions": versions(), "inputs": inputs, "seed": seed, "n_resamples": n_res, "confidence_level": cl,
            "created_by": f"metajudge {versions()['metajudge']}", "engine": engine,
            "config_path": str(getattr(cfg, "_source_path", None) or "")}
    return Analysis(results=res, coverage=pd.DataFrame(coverage),
                    problems=pd.DataFrame(columns=["source", "row", "item_id", "problem", "raw"]),
                    confusion=confusion, scale=scale, config=config_to_dict(cfg), provenance=prov, notes=notes,
                    title=cfg.title, probes=[], extra={})


def _leniency_from_cells(name: str, jc: _JudgeCells, scale: Scale, ref_name: str, cl: float) -> list[dict[str, Any]]:
    """Count-based leniency rows from per-item tables: the mean signed shift (level values, judge − reference,
    items weighted equally with their rows averaged), with a normal interval from the item-level variance,
    and the Stuart–Maxwell test of the summed table."""
    from scipy import stats as sps

    from .probes.base import estimate, probe_row
    from .probes.leniency import stuart_maxwell

    vals = scale.level_values()
    diff = (vals[None, :] - vals[:, None]).ravel()  # judge − reference for cell (r, c)
    n = jc.n_items
    if jc.single:  # one row per item: the item differences are the cells' differences, weighted by the table
        t = jc.table().ravel()
        mean = float(t @ diff / n) if n else math.nan
        var = float(t @ (diff - mean) ** 2 / (n - 1)) if n > 1 else math.nan
        se = math.sqrt(var / n) if n > 1 else math.nan
    else:
        rows = jc._rows()
        n_rows = np.bincount(rows, weights=jc.count, minlength=n)
        d = np.bincount(rows, weights=jc.count * diff[jc.cell], minlength=n) / n_rows
        mean = float(d.mean()) if n else math.nan
        se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    out = []
    z = float(sps.norm.ppf(0.5 + cl / 2))
    p = float(2 * sps.norm.sf(abs(mean / se))) if se and math.isfinite(se) and se > 0 else math.nan
    out.append(probe_row("leniency", name, estimate("leniency_shift", mean, mean - z * se, mean + z * se, n=n,
                                                    confidence_level=cl, method="normal (item-level)",
                                                    note="mean of judge − reference level values per item; "
                                                         "normal interval from the item-level SD"),
                         reference=ref_name, p_value=p))
    tab = jc.table()
    stat, df, pv, note = stuart_maxwell(tab)
    out.append(probe_row("leniency", name, estimate("stuart_maxwell", stat, n=int(tab.sum()), confidence_level=cl,
                                                    method="stuart-maxwell",
                                                    note=f"chi-square statistic, df={df}; rows of the summed table"
                                                         + (f"; {note}" if note else "")),
                         reference=ref_name, p_value=pv))
    return out
