"""Read a ``results.json`` back into an :class:`~metajudge.results.Analysis`, and check that runs compare.

``results.json`` (written by :func:`metajudge.report.write_report`) carries everything a report needs:
the tidy tables, the confusion matrices, the scale, config and provenance, the plot data of the bias probes
(``probe_frames``) and ``analysis.extra``. :func:`analysis_from_json` rebuilds the analysis from it, with
the column types :func:`metajudge.analyze` produces (floats with NaN for ``null``, integer counts, string
columns), so that ``write_report(analysis_from_json(path), out)`` re-renders the report without
recomputing anything: the same ``report.html``, ``results.json``, tables and figures, byte for byte.

:func:`gold_fingerprint` and :func:`check_comparable` say whether several runs were made on the same gold
set and scale (``metajudge compare`` refuses runs that were not).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, MetajudgeError
from ..results import COVERAGE_COLUMNS, PROBLEM_COLUMNS, RESULT_COLUMNS, Analysis
from ..scales import Scale

__all__ = [
    "GOLD_READ_KEYS",
    "RunMismatchError",
    "analysis_from_json",
    "check_comparable",
    "frame_from_dict",
    "gold_fingerprint",
    "load_run",
    "resolve_results_path",
]

#: The dtype pandas gives a column of strings (``str`` from pandas 3, ``object`` before).
_STR = pd.Series([""]).dtype
_FLOAT_COLUMNS = ("estimate", "ci_low", "ci_high", "confidence_level", "p_value", "p_adjusted")
_RESULT_INTS = ("n",)
_COVERAGE_INTS = tuple(COVERAGE_COLUMNS[3:])
_PROBLEM_INTS = ("row",)

#: Keys of the gold section of the config that decide which labels are read (beside the file itself).
GOLD_READ_KEYS: tuple[str, ...] = ("dataset", "split", "layout", "raters", "aggregate")
_GOLD_COLUMN_KEYS: tuple[str, ...] = ("item", "rater", "label")


class RunMismatchError(MetajudgeError):
    """Runs that are to be compared were made on different gold sets or scales."""


# ----------------------------------------------------------------------------------------- frames
def _is_frame_dict(value: Any) -> bool:
    return (isinstance(value, Mapping) and isinstance(value.get("columns"), list)
            and isinstance(value.get("records"), list)
            and set(value) <= {"columns", "dtypes", "records", "index", "index_name"})


def _string_like(values: pd.Series) -> bool:
    return all(isinstance(v, str) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v)))


def _restore_dtype(col: pd.Series, dtype: str | None) -> pd.Series:
    """``col`` (as read from JSON records) cast to the recorded pandas dtype where that is lossless."""
    if dtype is None:
        return col
    has_null = bool(col.isna().any())
    try:
        if dtype.startswith(("int", "uint", "Int", "UInt")):
            if has_null and dtype[0] in "iu":
                return pd.to_numeric(col, errors="coerce").astype("float64")
            return col.astype(dtype)
        if dtype.startswith(("float", "Float")):
            return pd.to_numeric(col, errors="coerce").astype(dtype)
        if dtype in ("bool", "boolean"):
            return col if has_null and dtype == "bool" else col.astype(dtype)
        if dtype == "str":  # pandas >= 3 default strings; pandas 2 would write None as "None": keep object
            return col.astype(_STR) if _string_like(col) and _STR != np.dtype(object) else col
        if dtype.startswith("string"):
            return col.astype(dtype) if _string_like(col) else col
        if dtype.startswith("datetime64") or dtype.startswith("timedelta64") or dtype == "category":
            return col.astype(dtype)
        if dtype == "object":
            return col.astype(object)
    except (TypeError, ValueError, OverflowError):
        return col
    return col


def frame_from_dict(data: Mapping[str, Any]) -> pd.DataFrame:
    """The inverse of :func:`metajudge.report.export.frame_to_dict`: ``{"columns", "dtypes", "records"}``
    (``"index"``, ``"index_name"`` optional) -> DataFrame with the recorded column order and types."""
    columns = [str(c) for c in data.get("columns") or []]
    recs = data.get("records") or []
    df = pd.DataFrame.from_records([[r.get(c) for c in columns] for r in recs], columns=columns) if recs else \
        pd.DataFrame({c: pd.Series([], dtype=object) for c in columns}, columns=columns)
    dtypes = data.get("dtypes")
    if isinstance(dtypes, list) and len(dtypes) == len(columns):
        df = pd.DataFrame({c: _restore_dtype(df.iloc[:, k], str(dtypes[k])) for k, c in enumerate(columns)},
                          columns=columns) if columns else df
        if not columns:
            df = pd.DataFrame(index=range(len(recs)))
    if "index" in data and isinstance(data["index"], list) and len(data["index"]) == len(df):
        df.index = pd.Index(data["index"], name=data.get("index_name"))
    return df


def _extra_from_jsonable(value: Any) -> Any:
    if _is_frame_dict(value):
        return frame_from_dict(value)
    if isinstance(value, Mapping):
        return {str(k): _extra_from_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_extra_from_jsonable(v) for v in value]
    return value


def _table(recs: Any, columns: Sequence[str], ints: Sequence[str], floats: Sequence[str] = ()) -> pd.DataFrame:
    """A tidy table from JSON records: ``columns`` first (then any others, in order of appearance), floats as
    float64 with NaN, counts as int64 when every value is an integer (else float64), string columns as the
    string dtype pandas infers."""
    recs = [r for r in (recs or []) if isinstance(r, Mapping)]
    cols = list(columns) + [c for c in dict.fromkeys(k for r in recs for k in r) if c not in columns]
    df = pd.DataFrame.from_records([[r.get(c) for c in cols] for r in recs], columns=cols)
    for c in cols:
        col = df[c]
        if c in floats:
            df[c] = pd.to_numeric(col, errors="coerce").astype("float64")
        elif c in ints:
            num = pd.to_numeric(col, errors="coerce").astype("float64")
            whole = bool(num.notna().all()) and bool(np.all(np.mod(num.to_numpy(), 1) == 0))
            df[c] = num.astype("int64") if whole else num
        elif not len(col):
            df[c] = col.astype(_STR)
        elif col.isna().all():
            df[c] = col.astype(_STR) if c in columns and _STR != np.dtype(object) else col
        elif _string_like(col):
            df[c] = col.astype(_STR) if _STR != np.dtype(object) else col
    return df


def _confusion(data: Any) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    for judge, entry in (data or {}).items():
        if not isinstance(entry, Mapping):
            continue
        ref = [str(v) for v in entry.get("reference_levels") or []]
        jud = [str(v) for v in entry.get("judge_levels") or []]
        counts = entry.get("counts") or []
        flat = [v for row in counts for v in row]
        ints = all(isinstance(v, int) and not isinstance(v, bool) for v in flat)
        arr = np.array([[np.nan if v is None else v for v in row] for row in counts],
                       dtype="int64" if ints else "float64").reshape(len(ref), len(jud))
        out[str(judge)] = pd.DataFrame(arr, index=pd.Index(ref), columns=pd.Index(jud))
    return out


def _scale(data: Any) -> Scale:
    if not isinstance(data, Mapping) or not data.get("kind"):
        raise InputError("results.json has no scale (key 'scale' with a 'kind'); it was not written by "
                         "metajudge report. Re-run the analysis with metajudge report CONFIG.")
    levels = data.get("levels")
    return Scale(str(data["kind"]), levels=tuple(levels) if levels is not None else None,
                 positive=data.get("positive"), ties=bool(data.get("ties", True)), minimum=data.get("minimum"),
                 maximum=data.get("maximum"))


def _probes(data: Mapping[str, Any], results: pd.DataFrame) -> list[Any]:
    from ..probes.base import ProbeResult

    entries = [p for p in (data.get("probes") or []) if isinstance(p, Mapping)]
    frames = [f for f in (data.get("probe_frames") or []) if isinstance(f, Mapping)]
    rows = results[results["section"].astype(str) == "probe"] if "section" in results else results.iloc[0:0]
    out = []
    for k, p in enumerate(entries):
        name = str(p.get("probe", ""))
        own = rows[rows["probe"].astype(str) == name] if "probe" in rows else rows.iloc[0:0]
        fr: dict[str, Any] = {}
        if k < len(frames) and str(frames[k].get("probe", name)) == name:
            for fname, fdata in (frames[k].get("frames") or {}).items():
                fr[str(fname)] = frame_from_dict(fdata) if _is_frame_dict(fdata) else fdata
        counts = p.get("counts") or {}
        out.append(ProbeResult(
            probe=name,
            rows=own.to_dict(orient="records"),
            counts={str(j): (dict(c) if isinstance(c, Mapping) else c) for j, c in counts.items()},
            skipped=[str(x) for x in p.get("skipped") or []],
            frames=fr,
            description=str(p.get("description") or ""),
        ))
    return out


def resolve_results_path(path: str | Path) -> Path:
    """``path`` itself if it is a file, ``path/results.json`` if it is a report folder; InputError else."""
    p = Path(path)
    if p.is_dir():
        cand = p / "results.json"
        if not cand.is_file():
            raise InputError(f"{p.resolve()} is a folder without results.json. Give a results.json written by "
                             "metajudge report, or the report folder that holds it.")
        return cand
    if not p.is_file():
        raise InputError(f"results file not found: {p.resolve()}. Give a results.json written by metajudge "
                         "report, or the report folder that holds it.")
    return p


def _read(path_or_text: str | Path | Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    if isinstance(path_or_text, Mapping):
        return dict(path_or_text), "the given results"
    if isinstance(path_or_text, str) and path_or_text.lstrip().startswith("{"):
        where, text = "the given JSON text", path_or_text
    else:
        p = resolve_results_path(path_or_text)
        where = str(p.resolve())
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {where}: {exc}. Give a results.json written by metajudge report.") \
                from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). Give a "
                         "results.json written by metajudge report, unchanged.") from None
    if not isinstance(data, dict) or "results" not in data or "scale" not in data:
        raise InputError(f"{where} is not a metajudge results.json: it lacks the keys 'results' and 'scale'. "
                         "Give the results.json that metajudge report wrote next to report.html.")
    return data, where


def analysis_from_json(path_or_text: str | Path | Mapping[str, Any]) -> Analysis:
    """Rebuild an :class:`~metajudge.results.Analysis` from a ``results.json``.

    Parameters
    ----------
    path_or_text : str, Path or mapping
        A ``results.json`` file, a report folder holding one, the JSON text itself, or the parsed dict.

    Returns
    -------
    Analysis
        ``results``, ``coverage`` and ``problems`` with the columns and types of :func:`metajudge.analyze`,
        the confusion matrices, the scale, config, provenance, notes, title, ``extra`` (DataFrames restored)
        and one :class:`~metajudge.probes.ProbeResult` per probe (its rows taken from the ``probe`` section
        of ``results``, its counts, skipped notes, description and plot frames).

    Raises
    ------
    InputError
        When the file is missing, not JSON, or not a metajudge results file.

    Notes
    -----
    The scale's ``synonyms`` are not stored in ``results.json`` (they only matter when reading raw labels) and
    come back empty. Values that ``results.json`` writes in a JSON form (tuples as lists, paths and dates as
    strings, numpy scalars as Python numbers) come back in that form.
    """
    data, _ = _read(path_or_text)
    results = _table(data.get("results"), RESULT_COLUMNS, _RESULT_INTS, _FLOAT_COLUMNS)
    coverage = _table(data.get("coverage"), COVERAGE_COLUMNS, _COVERAGE_INTS)
    problems = _table(data.get("problems"), PROBLEM_COLUMNS, _PROBLEM_INTS)
    extra = _extra_from_jsonable(data.get("extra") or {})
    return Analysis(
        results=results,
        coverage=coverage,
        problems=problems,
        confusion=_confusion(data.get("confusion")),
        scale=_scale(data.get("scale")),
        config=dict(data.get("config") or {}),
        provenance=dict(data.get("provenance") or {}),
        notes=[str(n) for n in data.get("notes") or []],
        title=str(data.get("title", "metajudge report")),
        extra=extra if isinstance(extra, dict) else {},
        probes=_probes(data, results),
    )


def load_run(path: str | Path) -> tuple[Analysis, Path]:
    """:func:`analysis_from_json` of a results file or report folder, with the file it read."""
    p = resolve_results_path(path)
    return analysis_from_json(p), p


# -------------------------------------------------------------------------------------- comparisons
def gold_fingerprint(analysis: Analysis) -> dict[str, Any]:
    """What identifies the gold set of a run: ``path`` (the gold source of the coverage table), ``sha256`` (its
    hash in ``provenance["inputs"]``; ``None`` when not recorded), ``read`` (the config keys that decide which
    labels are read: columns item / rater / label, layout, raters, aggregate, split, dataset) and ``scale``."""
    cov = analysis.coverage
    path = ""
    if len(cov) and "kind" in cov and "path" in cov:
        gold = cov[cov["kind"].astype(str) == "gold"]
        if len(gold):
            v = gold["path"].iloc[0]
            path = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
    prov = analysis.provenance if isinstance(analysis.provenance, Mapping) else {}
    inputs = prov.get("inputs") if isinstance(prov.get("inputs"), Mapping) else {}
    sha = inputs.get(path)
    if sha is None and not path and inputs:  # no coverage: the pipeline records the gold source first
        path, sha = next(iter(inputs.items()))
    gold_cfg = analysis.config.get("gold") if isinstance(analysis.config, Mapping) else None
    read: dict[str, Any] = {}
    if isinstance(gold_cfg, Mapping):
        cols = gold_cfg.get("columns") if isinstance(gold_cfg.get("columns"), Mapping) else {}
        read = {f"columns.{k}": cols.get(k) for k in _GOLD_COLUMN_KEYS if k in cols}
        read.update({k: gold_cfg.get(k) for k in GOLD_READ_KEYS if k in gold_cfg})
    return {"path": path, "sha256": sha, "read": read, "scale": analysis.scale.to_dict()}


def check_comparable(runs: Sequence[tuple[str, Analysis]]) -> None:
    """Raise :class:`RunMismatchError` unless every run was made on the same gold set and scale.

    The gold set is the same when the sha256 of the gold source recorded in the provenance is the same (the
    file may have moved) and the config reads it the same way (item, rater and label columns, layout, raters,
    aggregation). ``runs`` holds (file name, analysis) pairs; the message names both files.
    """
    if len(runs) < 2:
        return
    first_name, first = runs[0]
    ref = gold_fingerprint(first)
    if ref["sha256"] is None:
        raise RunMismatchError(f"{first_name} records no sha256 of its gold set (provenance.inputs has no entry "
                               f"for the gold source {ref['path'] or '(unknown)'}), so it cannot be checked that "
                               "the runs share a gold set. Re-run it with metajudge report CONFIG.")
    for name, a in runs[1:]:
        fp = gold_fingerprint(a)
        if fp["sha256"] is None:
            raise RunMismatchError(f"{name} records no sha256 of its gold set (provenance.inputs has no entry for "
                                   f"the gold source {fp['path'] or '(unknown)'}), so it cannot be checked that it "
                                   f"shares the gold set of {first_name}. Re-run it with metajudge report CONFIG.")
        if fp["sha256"] != ref["sha256"]:
            raise RunMismatchError(
                f"cannot compare runs on different gold sets: {first_name} was run on {ref['path']} (sha256 "
                f"{ref['sha256']}) and {name} on {fp['path']} (sha256 {fp['sha256']}). A leaderboard is only "
                "meaningful on one gold set: compare runs made on the same gold file.")
        if fp["scale"] != ref["scale"]:
            raise RunMismatchError(
                f"cannot compare runs on different scales: {first_name} uses {json.dumps(ref['scale'])} and "
                f"{name} uses {json.dumps(fp['scale'])} (gold sha256 {ref['sha256']} in both). Compare runs "
                "made with the same scale section in their configs.")
        diff = [k for k in dict.fromkeys([*ref["read"], *fp["read"]])
                if ref["read"].get(k) != fp["read"].get(k)]
        if diff:
            shown = "; ".join(f"{k}: {ref['read'].get(k)!r} vs {fp['read'].get(k)!r}" for k in diff)
            raise RunMismatchError(
                f"cannot compare {first_name} and {name}: they read the same gold file (sha256 {ref['sha256']}) "
                f"differently ({shown}), so their references differ. Compare runs made with the same gold "
                "section in their configs.")
