"""Machine-readable exports of an :class:`~metajudge.results.Analysis`: JSON, CSV tables and LaTeX.

All writers are deterministic: the same analysis gives byte-identical files (no time stamps, fixed column
order, fixed float formatting, ``\\n`` line ends, UTF-8).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import pandas as pd

from ..results import COVERAGE_COLUMNS, PROBLEM_COLUMNS, RESULT_COLUMNS, Analysis, display_name

__all__ = [
    "CSV_FLOAT_FORMAT",
    "PROBE_ORDER",
    "PROBE_TITLES",
    "analysis_to_dict",
    "format_confidence",
    "latex_escape",
    "metajudge_version",
    "probe_title",
    "probes_to_list",
    "records",
    "results_to_json",
    "safe_filename",
    "to_jsonable",
    "to_latex",
    "write_json",
    "write_tables",
]

#: Float format of every CSV table (10 significant digits: deterministic and lossless enough for reports).
CSV_FLOAT_FORMAT = "%.10g"

#: The bias probes in report order, and their titles (METRICS.md §5–6).
PROBE_ORDER: tuple[str, ...] = ("position", "length", "self_preference", "leniency", "system")
PROBE_TITLES: dict[str, str] = {
    "position": "Position bias",
    "length": "Length bias",
    "self_preference": "Self-preference",
    "leniency": "Leniency",
    "system": "System-level validity",
}

#: Columns holding counts: integral floats in them are written as integers.
_COUNT_COLUMNS = frozenset({"n", "row", *COVERAGE_COLUMNS[3:]})


# ------------------------------------------------------------------------------------------ helpers
def format_confidence(levels: Iterable[Any]) -> str:
    """Confidence level(s) as a CI label, e.g. ``"95% CI"``; several levels are joined with ``/``.

    >>> format_confidence([0.95, 0.95]), format_confidence([0.9, 0.975]), format_confidence([])
    ('95% CI', '90%/97.5% CI', 'CI (level not recorded)')
    """
    vals: set[float] = set()
    for c in levels:
        try:
            f = float(c)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            vals.add(round(f, 6))
    if not vals:
        return "CI (level not recorded)"
    return "/".join(f"{100 * c:g}%" for c in sorted(vals)) + " CI"


# --------------------------------------------------------------------------------------------- JSON
def to_jsonable(value: Any) -> Any:
    """Convert a value to plain JSON types: NaN/inf/NA -> ``None``, numpy scalars and arrays -> Python,
    dates -> ISO strings, paths -> strings, tuples and sets -> lists, mapping keys -> strings.

    >>> import numpy as np
    >>> to_jsonable({"a": np.float64("nan"), "b": np.int64(3), 1: (np.inf, "x")})
    {'a': None, 'b': 3, '1': [None, 'x']}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return [to_jsonable(v) for v in sorted(value, key=repr)]
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, pd.DataFrame):
        return records(value)
    if isinstance(value, pd.Series):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, PurePath):
        return value.as_posix()
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return to_jsonable(value.to_dict())
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _ordered(df: pd.DataFrame | None, columns: Sequence[str]) -> pd.DataFrame:
    """``df`` with ``columns`` first (missing ones added empty), then any extra columns in their order."""
    if df is None:
        df = pd.DataFrame()
    extra = [c for c in df.columns if c not in columns]
    return df.reindex(columns=[*columns, *extra])


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a DataFrame as JSON-ready dicts (column order kept; counts as integers; NaN as None)."""
    out: list[dict[str, Any]] = []
    cols = [str(c) for c in df.columns]
    for row in df.itertuples(index=False, name=None):
        rec: dict[str, Any] = {}
        for col, v in zip(cols, row, strict=True):
            j = to_jsonable(v)
            if col in _COUNT_COLUMNS and isinstance(j, float) and j.is_integer():
                j = int(j)
            rec[col] = j
        out.append(rec)
    return out


def metajudge_version(analysis: Analysis | None = None) -> str:
    """The metajudge version recorded in the analysis provenance, else the installed version."""
    if analysis is not None:
        versions = analysis.provenance.get("versions") if isinstance(analysis.provenance, Mapping) else None
        recorded = str(versions.get("metajudge") or "") if isinstance(versions, Mapping) else ""
        if recorded and recorded[0].isdigit():  # not "not installed" / "unknown"
            return recorded
    try:
        import metajudge

        v = getattr(metajudge, "__version__", None)
        if v:
            return str(v)
    except ImportError:  # pragma: no cover - we are inside metajudge
        pass
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("metajudge")
    except PackageNotFoundError:
        return "unknown"


def _confusion_dict(confusion: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for judge, df in confusion.items():
        counts = [[to_jsonable(v) for v in row] for row in df.to_numpy().tolist()]
        counts = [[int(v) if isinstance(v, float) and v.is_integer() else v for v in row] for row in counts]
        out[str(judge)] = {
            "reference_levels": [str(v) for v in df.index],
            "judge_levels": [str(v) for v in df.columns],
            "counts": counts,
        }
    return out


def probe_title(probe: Any) -> str:
    """Title of a probe family ("Position bias"); unknown names are shown with spaces for underscores."""
    name = "" if probe is None else str(probe)
    return PROBE_TITLES.get(name, name.replace("_", " ").capitalize() or "Other probe")


def probe_sort_key(probe: Any) -> int:
    """Position of a probe family in :data:`PROBE_ORDER` (unknown families after the known ones)."""
    return PROBE_ORDER.index(str(probe)) if str(probe) in PROBE_ORDER else len(PROBE_ORDER)


def probes_to_list(probes: Iterable[Any]) -> list[dict[str, Any]]:
    """The probe results as JSON-ready dicts ``{"probe", "description", "counts", "skipped"}``, in the order
    given; their estimates are rows of ``results`` (section ``"probe"``) and are not repeated here."""
    out = []
    for p in probes:
        counts = getattr(p, "counts", None) or {}
        out.append({
            "probe": str(getattr(p, "probe", "")),
            "description": str(getattr(p, "description", "") or ""),
            "counts": {str(j): to_jsonable(dict(c) if isinstance(c, Mapping) else c) for j, c in counts.items()},
            "skipped": [str(x) for x in (getattr(p, "skipped", None) or [])],
        })
    return out


def analysis_to_dict(analysis: Analysis) -> dict[str, Any]:
    """The analysis as plain JSON-ready data (the content of ``results.json``).

    When bias probes ran (``analysis.probes`` is not empty) a last key ``"probes"`` lists, per probe, its
    description, counts per judge and what could not be measured (:func:`probes_to_list`).
    """
    out = {
        "metajudge_version": metajudge_version(analysis),
        "title": str(analysis.title),
        "scale": to_jsonable(analysis.scale.to_dict()),
        "provenance": to_jsonable(analysis.provenance),
        "config": to_jsonable(analysis.config),
        "notes": [str(n) for n in analysis.notes],
        "coverage": records(_ordered(analysis.coverage, COVERAGE_COLUMNS)),
        "results": records(_ordered(analysis.results, RESULT_COLUMNS)),
        "problems": records(_ordered(analysis.problems, PROBLEM_COLUMNS)),
        "confusion": _confusion_dict(analysis.confusion),
    }
    out["probes"] = probes_to_list(list(getattr(analysis, "probes", None) or []))
    return out


def results_to_json(analysis: Analysis) -> str:
    """The analysis as a JSON document (2-space indent, UTF-8 text, NaN as ``null``, newline at the end).

    Keys keep a fixed order (not sorted) and the text is the same, byte for byte, for the same analysis.
    """
    return json.dumps(analysis_to_dict(analysis), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(analysis: Analysis, path: str | Path) -> Path:
    """Write :func:`results_to_json` to ``path`` (UTF-8, parent folders made); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(results_to_json(analysis).encode("utf-8"))
    return path


# ---------------------------------------------------------------------------------------------- CSV
def safe_filename(name: Any, *, max_length: int = 80) -> str:
    """A file-name-safe form of a judge name: letters, digits, ``.``, ``-`` and ``_`` only.

    When characters had to be replaced or cut, a short hash of the original name is appended so that
    different names never share a file.

    >>> safe_filename("gpt-4o_judge"), safe_filename("a/b c")
    ('gpt-4o_judge', 'a_b_c-9f597a63')
    """
    raw = str(name)
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", raw).strip("._-")[:max_length] or "unnamed"
    if s != raw:
        s = f"{s}-{hashlib.sha1(raw.encode('utf-8')).hexdigest()[:8]}"
    return s


def _write_csv(df: pd.DataFrame, path: Path, **kwargs: Any) -> Path:
    text = df.to_csv(float_format=CSV_FLOAT_FORMAT, lineterminator="\n", **kwargs)
    path.write_bytes(text.encode("utf-8"))
    return path


def write_tables(analysis: Analysis, directory: str | Path) -> list[Path]:
    """Write the analysis as CSV tables under ``directory/tables/``.

    Files: ``results.csv`` (every estimate), ``agreement.csv``, ``ceiling.csv``, ``baselines.csv``,
    ``comparisons.csv`` (the sections of ``results``), ``coverage.csv``, ``problems.csv``, ``probes.csv``
    (the bias-probe estimates: section ``probe``) and one
    ``confusion_<judge>.csv`` per judge (judge names made file-name safe by :func:`safe_filename`). Every
    table is written, with its header, even when empty. Floats use ``%.10g``; lines end in ``\\n``.

    Returns
    -------
    list of Path
        The files written, in the order above.
    """
    out = Path(directory) / "tables"
    out.mkdir(parents=True, exist_ok=True)
    results = _ordered(analysis.results, RESULT_COLUMNS)
    paths = [_write_csv(results, out / "results.csv", index=False)]
    for section, fname in (("agreement", "agreement"), ("ceiling", "ceiling"), ("baseline", "baselines"),
                           ("comparison", "comparisons")):
        part = results[results["section"] == section]
        paths.append(_write_csv(part, out / f"{fname}.csv", index=False))
    paths.append(_write_csv(_ordered(analysis.coverage, COVERAGE_COLUMNS), out / "coverage.csv", index=False))
    paths.append(_write_csv(_ordered(analysis.problems, PROBLEM_COLUMNS), out / "problems.csv", index=False))
    paths.append(_write_csv(results[results["section"] == "probe"], out / "probes.csv", index=False))
    used: set[str] = set()
    for judge, df in analysis.confusion.items():
        name = safe_filename(judge)
        while name.lower() in used:  # case-insensitive file systems
            name = f"{name}-{hashlib.sha1(name.encode('utf-8')).hexdigest()[:4]}"
        used.add(name.lower())
        table = df.copy()
        table.index = [str(v) for v in df.index]
        table.columns = [str(v) for v in df.columns]
        paths.append(_write_csv(table, out / f"confusion_{name}.csv", index=True,
                                index_label="reference \\ judge"))
    return paths


# -------------------------------------------------------------------------------------------- LaTeX
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
    "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}",
    ">": r"\textgreater{}", "|": r"\textbar{}",
}
_LATEX_GREEK = {"κ": r"$\kappa$", "α": r"$\alpha$", "π": r"$\pi$", "ρ": r"$\rho$", "τ": r"$\tau$",
                "Δ": r"$\Delta$", "−": r"$-$", "₊": r"$_{+}$", "±": r"$\pm$", "·": r"$\cdot$"}
_LATEX_TABLE = str.maketrans({**_LATEX_SPECIAL, **_LATEX_GREEK})


def latex_escape(text: Any) -> str:
    r"""Escape a string for LaTeX text mode (special characters, and the Greek letters of metric names).

    >>> print(latex_escape("a_b & 50% {x} ~ ^ \\ $ # κ"))
    a\_b \& 50\% \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{} \$ \# $\kappa$
    """
    return str(text).translate(_LATEX_TABLE)


def _latex_number(x: float, digits: int) -> str:
    s = f"{x:.{digits}f}"
    if s.startswith("-"):
        s = s[1:] if float(s) == 0 else "$-$" + s[1:]  # no "-0.000" after rounding
    return s


def _latex_cell(est: Any, lo: Any, hi: Any, digits: int) -> str:
    def bad(v: Any) -> bool:
        return v is None or not np.isfinite(float(v))

    if bad(est):
        return "---"
    cell = _latex_number(float(est), digits)
    if not (bad(lo) or bad(hi)):
        cell += f" [{_latex_number(float(lo), digits)}, {_latex_number(float(hi), digits)}]"
    return cell


_SECTION_TITLES = {"agreement": "LLM judges", "ceiling": "Human ceiling (leave one annotator out)",
                   "baseline": "Null baselines", "comparison": "Comparisons", "probe": "Bias probes"}


def _unique(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def to_latex(
    results: pd.DataFrame,
    *,
    metrics: Sequence[str] | None = None,
    caption: str | None = None,
    label: str | None = None,
    slice: str = "all",  # noqa: A002 - the column is called slice
    digits: int = 3,
    sections: Sequence[str] | None = None,
) -> str:
    r"""A booktabs table of judges (rows) by metrics (columns), cells ``estimate [ci_low, ci_high]``.

    Rows are grouped by section (judges, human ceiling, null baselines, then bias probes, one group per probe
    family such as "Bias probes: Position bias"; comparisons are left out) in their order of appearance; a
    judge compared with several references gets one row per reference. Columns use
    the metrics' display names; correlations at dataset / group / system level get one column per level.
    Every string that comes from the data, and the caption, is escaped for LaTeX; ``label`` is written as
    given. Undefined estimates are written ``---``. Needs ``\usepackage{booktabs}``.

    Parameters
    ----------
    results : DataFrame
        Rows with :data:`metajudge.results.RESULT_COLUMNS`.
    metrics : sequence of str, optional
        snake_case metric names, in column order; default: every metric present, in order of appearance.
    caption, label : str, optional
    slice : str
        Which slice to tabulate (default ``"all"``).
    digits : int
        Decimal places.
    sections : sequence of str, optional
        Sections to include (e.g. ``["probe"]`` for a table of the bias probes only); default: all but
        ``"comparison"``.

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"section": ["agreement"], "judge": ["gpt_4 & co"], "rater_kind": ["judge"],
    ...     "reference": ["majority(humans)"], "metric": ["cohen_kappa"], "level": ["item"], "slice": ["all"],
    ...     "estimate": [0.61], "ci_low": [0.57], "ci_high": [0.65], "confidence_level": [0.95]})
    >>> print(to_latex(rows))
    \begin{table}[htbp]
    \centering
    \begin{tabular}{lc}
    \toprule
    Judge & Cohen's $\kappa$ \\
     & estimate [95\% CI] \\
    \midrule
    \multicolumn{2}{l}{\emph{LLM judges}} \\
    gpt\_4 \& co & 0.610 [0.570, 0.650] \\
    \bottomrule
    \end{tabular}
    \end{table}
    """
    df = _ordered(results, RESULT_COLUMNS)
    df = df[df["section"].astype(str) != "comparison"]
    if sections is not None:
        df = df[df["section"].astype(str).isin([str(x) for x in sections])]
    df = df[df["slice"].fillna("all").astype(str) == slice]
    if metrics is not None:
        metrics = list(metrics)
        missing = [m for m in metrics if m not in set(df["metric"].astype(str))]
        if missing:
            raise ValueError(f"metric(s) {missing} not in the results (slice {slice!r}); present: "
                             f"{_unique(df['metric'].astype(str))}.")
        df = df[df["metric"].isin(metrics)]
    else:
        metrics = _unique(df["metric"].astype(str))
    df = df.assign(level=df["level"].fillna("item").astype(str).replace("", "item"),
                   reference=df["reference"].fillna("").astype(str),
                   probe=df["probe"].map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v))
                                         else str(v)))
    columns: list[tuple[str, str]] = []
    for m in metrics:
        for lv in _unique(df.loc[df["metric"] == m, "level"]):
            columns.append((m, lv))
    order = list(_SECTION_TITLES)
    groups = sorted(_unique(zip(df["section"].astype(str),
                                df["probe"].where(df["section"].astype(str) == "probe", ""), strict=True)),
                    key=lambda g: (order.index(g[0]) if g[0] in order else 99, probe_sort_key(g[1])))
    ncol = 1 + len(columns)
    lines = [r"\begin{table}[htbp]", r"\centering"]
    if caption is not None:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    if label is not None:
        lines.append(rf"\label{{{label}}}")
    lines += [rf"\begin{{tabular}}{{l{'c' * len(columns)}}}", r"\toprule"]
    head = ["Judge"] + [latex_escape(display_name(m) + ("" if lv == "item" else f" ({lv})")) for m, lv in columns]
    lines.append(" & ".join(head) + r" \\")
    ci = []
    for m, lv in columns:
        levels = df.loc[(df["metric"] == m) & (df["level"] == lv), "confidence_level"]
        ci.append(latex_escape(f"estimate [{format_confidence(levels)}]"))
    lines.append(" & ".join(["", *ci]) + r" \\")
    for section, probe in groups:
        part = df[df["section"].astype(str) == section]
        if section == "probe":
            part = part[part["probe"] == probe]
        lines.append(r"\midrule")
        title = _SECTION_TITLES.get(section, section)
        if section == "probe" and probe:
            title = f"{title}: {probe_title(probe)}"
        lines.append(rf"\multicolumn{{{ncol}}}{{l}}{{\emph{{{latex_escape(title)}}}}} \\")
        keys = _unique(zip(part["judge"].astype(str), part["reference"], strict=True))
        n_refs = part.groupby(part["judge"].astype(str))["reference"].nunique()
        for judge, ref in keys:
            rows = part[(part["judge"].astype(str) == judge) & (part["reference"] == ref)]
            name = judge if (n_refs[judge] <= 1 and section != "ceiling") or not ref else f"{judge} vs {ref}"
            cells = [latex_escape(name)]
            for m, lv in columns:
                hit = rows[(rows["metric"] == m) & (rows["level"] == lv)]
                if hit.empty:
                    cells.append("")
                else:
                    r = hit.iloc[0]
                    cells.append(_latex_cell(r["estimate"], r["ci_low"], r["ci_high"], digits))
            lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"
