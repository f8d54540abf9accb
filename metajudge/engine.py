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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import ConfigError, InputError
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
        if p and (Path(p).is_dir() or any(ch in str(p) for ch in "*?[")):
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
               scheduler: str | None = None, progress: Any = None, **kwargs: Any) -> list[Any]:
    """``[fn(path, **kwargs) for path in paths]``, in this process or on Dask workers (results in path order)."""
    if engine not in ENGINES:
        raise ConfigError(f"engine must be one of {ENGINES}; got {engine!r}.")
    if engine == "local":
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
        kw = {k: c.scatter(v, broadcast=True) if isinstance(v, np.ndarray) and len(v) > 1000 else v
              for k, v in kw.items()}
        futures = c.map(fn, [str(p) for p in paths], pure=False, **kw)
        out = c.gather(futures)
    finally:
        close()
    if progress is not None:
        for p in paths:
            progress.step(Path(p).name)
    return list(out)


def _read_columns(path: str | Path, columns: Sequence[str]) -> pd.DataFrame:
    """Only ``columns`` of a Parquet, CSV/TSV or JSONL file, read by pyarrow with strings dictionary-encoded
    (labels then cost one classification per distinct value, and a byte or two per row)."""
    import pyarrow as pa

    suffix = "".join(Path(str(path)).suffixes[-2:]).lower()
    cols = list(columns)
    try:
        if suffix.endswith((".csv", ".tsv", ".csv.gz", ".tsv.gz")):
            import pyarrow.csv as pcsv

            t = pcsv.read_csv(str(path), parse_options=pcsv.ParseOptions(delimiter="\t" if ".tsv" in suffix else ","),
                              convert_options=pcsv.ConvertOptions(
                                  include_columns=cols, column_types={c: pa.dictionary(pa.int32(), pa.string())
                                                                      for c in cols}))
        elif suffix.endswith((".jsonl", ".ndjson")):
            import pyarrow.json as pjson

            t = pjson.read_json(str(path)).select(cols)
        else:
            import pyarrow.parquet as pq

            t = pq.read_table(str(path), columns=cols, read_dictionary=cols)
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
    if not pa.types.is_dictionary(ca.type):
        ca = pc.dictionary_encode(ca)
    ca = ca.unify_dictionaries()
    if ca.num_chunks == 0 or len(ca) == 0:
        z = np.zeros(0, dtype=bool)
        return np.zeros(0, dtype=np.int16), z, z
    dictionary = ca.chunk(0).dictionary.to_pylist()
    idx = np.concatenate([ch.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
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


# ------------------------------------------------------------------------------------ joined logs (P10)
def joined_shard_table(path: str | Path, *, reference: str, candidate: str, scale: Scale) -> dict[str, Any]:
    """One shard of a joined log -> its K×K table (reference × candidate codes) and the rows left out."""
    sc = scale
    t = _read_columns(path, [reference, candidate])
    r, r_miss, r_bad = _arrow_codes(sc, t.column(reference))
    c, c_miss, c_bad = _arrow_codes(sc, t.column(candidate))
    k = sc.n_levels
    ok = (r >= 0) & (c >= 0)
    table = np.bincount(r[ok].astype(np.int64) * k + c[ok], minlength=k * k).reshape(k, k)
    return {"table": table, "rows": t.num_rows, "missing_reference": int(r_miss.sum()),
            "missing_candidate": int(c_miss.sum()), "out_of_scale_reference": int(r_bad.sum()),
            "out_of_scale_candidate": int(c_bad.sum()), "left_out": int((~ok).sum())}


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
                       reference=reference, candidate=candidate, scale=scale)
    table = np.sum([p["table"] for p in parts], axis=0)
    counts = {key: int(sum(p[key] for p in parts)) for key in parts[0] if key != "table"}
    est = agreement_from_table(table, names, scale, confidence_level=confidence_level, n_resamples=n_resamples,
                               seed=seed)
    return ShardedAgreement(est, table, counts, len(paths))


# ------------------------------------------------------------------------- judge logs against a gold set
def judge_shard_cells(path: str | Path, *, judge: dict[str, Any], base_dir: str | None, gold_items: Sequence[str],
                      ref_codes: np.ndarray, scale: Scale) -> dict[str, Any]:
    """One shard of a judge's outputs -> sparse per-item cell counts against the gold reference.

    The shard is read and parsed with the judge's config (column mapping, verdict extraction), its labels
    classified on the scale and its items looked up in the gold set. Returns ``keys`` (item index × K² +
    reference × K + judge code, unique) with ``counts``, and the rows left out by reason."""
    from .config import JudgeConfig
    from .io import load_judge

    sc = scale
    jc = JudgeConfig.model_validate({**judge, "path": str(path)})
    df = load_judge(jc, base_dir)
    k = sc.n_levels
    codes, missing, bad = _codes(sc, df["label"].astype(object))
    parse_ok = df["parse_ok"].to_numpy(dtype=bool) if "parse_ok" in df else np.ones(len(df), dtype=bool)
    idx = pd.Index(np.asarray(gold_items, dtype=object)).get_indexer(df["item_id"].astype(str).to_numpy(dtype=object))
    in_gold = idx >= 0
    ref = np.where(in_gold, np.asarray(ref_codes)[np.maximum(idx, 0)], -1)
    ok = parse_ok & (codes >= 0) & in_gold & (ref >= 0)
    keys = idx[ok].astype(np.int64) * (k * k) + ref[ok].astype(np.int64) * k + codes[ok]
    uk, cnt = np.unique(keys, return_counts=True)
    usable = parse_ok & (codes >= 0) & in_gold
    return {"keys": uk, "counts": cnt.astype(np.int64), "rows": len(df), "usable_rows": int(usable.sum()),
            "seen": np.unique(idx[in_gold]).astype(np.int64),
            "extra": sorted(set(df.loc[~in_gold, "item_id"].astype(str))),
            "unparseable": int((~parse_ok).sum()), "missing_label": int((missing & parse_ok).sum()),
            "out_of_scale": int((bad & parse_ok).sum()),
            "reference_undefined": int((in_gold & (ref < 0) & parse_ok & (codes >= 0)).sum())}


@dataclass
class _JudgeCells:
    name: str
    items: np.ndarray          # gold item index of each item with at least one usable row (sorted)
    cells: np.ndarray          # (n_items, K*K) counts
    counts: dict[str, int] = field(default_factory=dict)


def _merge_cells(name: str, parts: Iterable[Mapping[str, Any]], k: int) -> _JudgeCells:
    parts = list(parts)
    keys = np.concatenate([p["keys"] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    cnts = np.concatenate([p["counts"] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    uk, inv = np.unique(keys, return_inverse=True)
    total = np.bincount(inv.ravel(), weights=cnts, minlength=len(uk))
    item = uk // (k * k)
    cell = uk % (k * k)
    items, row = np.unique(item, return_inverse=True)
    cells = np.zeros((len(items), k * k))
    np.add.at(cells, (row.ravel(), cell), total)
    counts = {key: int(sum(p[key] for p in parts)) for key in ("rows", "usable_rows", "unparseable",
                                                               "missing_label", "out_of_scale",
                                                               "reference_undefined")}
    seen = np.unique(np.concatenate([p["seen"] for p in parts])) if parts else np.zeros(0, dtype=np.int64)
    extra = set().union(*[set(p["extra"]) for p in parts]) if parts else set()
    counts.update({"items_seen": len(seen), "missing_in_gold": len(extra)})
    return _JudgeCells(name, items, cells, counts)


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
    from .metrics.bootstrap import as_generator, compress_patterns, resample_sums
    from .pipeline import versions
    from .results import Analysis

    scale = cfg.scale.to_scale()
    if not scale.categorical:
        raise ConfigError("the sharded engines need a categorical scale (binary, nominal, ordinal or pairwise): "
                          "interval scores have no count table. Use the default analysis (no --engine).")
    base = getattr(cfg, "base_dir", None)
    gold = load_gold(cfg.gold, base)
    gsrc = str(gold.attrs.get("source", cfg.gold.path or "gold"))
    g = gold.copy()
    g["item_id"] = g["item_id"].astype(str)
    gcodes, gbad = scale.classify(g["label"])
    g["value"] = gcodes
    g_ok = g[~np.isnan(gcodes)]
    aggregate = cfg.gold.aggregate or ("median" if scale.kind == "ordinal" else "majority")
    ref, n_undef = aggregate_values(g_ok["value"], g_ok["item_id"], aggregate, scale)
    items = pd.Index(sorted(g["item_id"].unique()))
    ref = ref.reindex(items)
    ref_codes = np.where(ref.isna(), -1, ref.fillna(-1)).astype(np.int16)
    humans = sorted(g_ok["rater"].astype(str).unique())
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
    coverage = [{"source": "gold", "kind": "gold", "path": gsrc, "rows": len(g), "items": len(items),
                 "matched_items": int(ref.notna().sum()), "missing_in_gold": 0, "missing_in_judge": 0,
                 "duplicate_rows": 0, "unparseable": 0, "out_of_scale": int(gbad.sum()),
                 "missing_label": int((np.isnan(gcodes) & ~gbad).sum()), "excluded_rows": int(len(g) - len(g_ok)),
                 "fallback_rows": 0, "reference_undefined": int(ref.isna().sum())}]
    inputs = {gsrc: gold.attrs.get("sha256")}
    lenient: list[dict[str, Any]] = []
    for j in cfg.judges:
        jd = j.model_dump(mode="json", exclude={"path"})
        parts = map_shards(judge_shard_cells, shard_lists[j.name], engine=engine, client=client,
                           scheduler=scheduler, progress=prog, judge=jd, base_dir=str(base) if base else None,
                           gold_items=list(items), ref_codes=ref_codes, scale=scale)
        jc = _merge_cells(j.name, parts, k)
        n_items = len(jc.items)
        n_rows = int(jc.cells.sum())
        pt = jc.cells.sum(axis=0).reshape(k, k)
        if n_res > 0 and n_items:
            pats, mult = compress_patterns(jc.cells)
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
                         "missing_in_judge": len(items) - c["items_seen"], "duplicate_rows": 0,
                         "unparseable": c["unparseable"], "out_of_scale": c["out_of_scale"],
                         "missing_label": c["missing_label"],
                         "excluded_rows": c["rows"] - c["usable_rows"], "fallback_rows": 0,
                         "reference_undefined": 0})
        if scale.kind in ("ordinal", "binary") and n_items:
            lenient.append(_leniency_from_cells(j.name, jc, scale, ref_name, cl))
        for p in shard_lists[j.name]:
            from .io import sha256_of

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
             "(run without --engine on data that fits in memory for them); duplicate rows are not looked for "
             "across shards, and unparseable outputs are left out (counted)"]
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

    k = scale.n_levels
    vals = scale.level_values()
    cells = jc.cells.reshape(-1, k, k)
    n_rows = cells.sum(axis=(1, 2))
    diff = vals[None, :] - vals[:, None]  # judge − reference for cell (r, c)
    d = (cells * diff[None]).sum(axis=(1, 2)) / n_rows
    n = len(d)
    out = []
    mean = float(d.mean()) if n else math.nan
    se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    z = float(sps.norm.ppf(0.5 + cl / 2))
    p = float(2 * sps.norm.sf(abs(mean / se))) if se and math.isfinite(se) and se > 0 else math.nan
    out.append(probe_row("leniency", name, estimate("leniency_shift", mean, mean - z * se, mean + z * se, n=n,
                                                    confidence_level=cl, method="normal (item-level)",
                                                    note="mean of judge − reference level values per item; "
                                                         "normal interval from the item-level SD"),
                         reference=ref_name, p_value=p))
    tab = cells.sum(axis=0)
    stat, df, pv, note = stuart_maxwell(tab)
    out.append(probe_row("leniency", name, estimate("stuart_maxwell", stat, n=int(tab.sum()), confidence_level=cl,
                                                    method="stuart-maxwell",
                                                    note=f"chi-square statistic, df={df}; rows of the summed table"
                                                         + (f"; {note}" if note else "")),
                         reference=ref_name, p_value=pv))
    return out
