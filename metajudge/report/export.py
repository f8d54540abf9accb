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
    "extra_to_jsonable",
    "frame_to_dict",
    "LEADERBOARD_COLUMNS",
    "format_confidence",
    "latex_escape",
    "leaderboard",
    "leaderboard_to_latex",
    "metajudge_version",
    "probe_frames_to_list",
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


def frame_to_dict(df: pd.DataFrame) -> dict[str, Any]:
    """A DataFrame as JSON-ready data: ``{"columns": [...], "dtypes": [...], "records": [...]}``.

    ``columns`` keeps the column order (also of an empty frame), ``dtypes`` the pandas dtype names (so that
    :func:`metajudge.report.load.frame_from_dict` restores ints, floats and strings as they were) and
    ``records`` the rows as by :func:`records` (NaN as ``None``). A frame whose index is not the default
    ``0..n-1`` range also gets ``"index"`` (its values; the index name under ``"index_name"``).

    >>> frame_to_dict(pd.DataFrame({"judge": ["a"], "share": [0.5]}))["records"]
    [{'judge': 'a', 'share': 0.5}]
    """
    out: dict[str, Any] = {
        "columns": [str(c) for c in df.columns],
        "dtypes": [str(t) for t in df.dtypes],
        "records": records(df),
    }
    index = df.index
    default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and index.name is None
    if not default:
        out["index"] = [to_jsonable(v) for v in index.tolist()]
        if index.name is not None:
            out["index_name"] = str(index.name)
    return out


def extra_to_jsonable(value: Any) -> Any:
    """A value of ``analysis.extra`` as JSON-ready data: DataFrames as :func:`frame_to_dict` (also inside
    mappings and lists), everything else as :func:`to_jsonable`."""
    if isinstance(value, pd.DataFrame):
        return frame_to_dict(value)
    if isinstance(value, Mapping):
        return {str(k): extra_to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [extra_to_jsonable(v) for v in value]
    return to_jsonable(value)


def probe_frames_to_list(probes: Iterable[Any]) -> list[dict[str, Any]]:
    """The plot data of each probe (``ProbeResult.frames``), in the order of :func:`probes_to_list`:
    ``[{"probe": name, "frames": {frame name: frame_to_dict(frame)}}, ...]``."""
    out = []
    for p in probes:
        frames = getattr(p, "frames", None) or {}
        out.append({
            "probe": str(getattr(p, "probe", "")),
            "frames": {str(k): frame_to_dict(v) if isinstance(v, pd.DataFrame) else to_jsonable(v)
                       for k, v in frames.items()},
        })
    return out


def analysis_to_dict(analysis: Analysis) -> dict[str, Any]:
    """The analysis as plain JSON-ready data (the content of ``results.json``).

    Keys, in this order: ``metajudge_version``, ``title``, ``scale``, ``provenance``, ``config``, ``notes``,
    ``coverage``, ``results``, ``problems``, ``confusion`` (judge -> levels and counts), ``probe_frames``
    (the plot data of each probe, :func:`probe_frames_to_list`), ``extra`` (``analysis.extra``, DataFrames as
    :func:`frame_to_dict`) and, last, ``probes``: per probe its description, counts per judge and what could
    not be measured (:func:`probes_to_list`; its estimates are rows of ``results``). Everything a report needs
    is there: :func:`metajudge.report.load.analysis_from_json` rebuilds the analysis and
    :func:`~metajudge.report.write_report` re-renders it byte for byte.
    """
    probes = list(getattr(analysis, "probes", None) or [])
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
        "probe_frames": probe_frames_to_list(probes),
        "extra": extra_to_jsonable(dict(analysis.extra) if isinstance(analysis.extra, Mapping) else {}),
    }
    out["probes"] = probes_to_list(probes)
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
    # ligatures and controls that would not print as typed
    "\n": " ", "\r": " ", "\t": " ", "\f": " ", "\v": " ", "\x00": "",
}
_GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu",
          "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega")
_GREEK_UPPER = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"}
_LATEX_UNICODE: dict[str, str] = {}
for _k, _name in enumerate(_GREEK):
    _lower = chr(0x3B1 + _k + (1 if _k >= 17 else 0))  # U+03C2 (final sigma) sits between rho and sigma
    _upper = chr(0x391 + _k + (1 if _k >= 17 else 0))
    _LATEX_UNICODE[_lower] = "$o$" if _name == "omicron" else rf"$\{_name}$"
    _cap = _name.capitalize()
    if _cap in _GREEK_UPPER:
        _LATEX_UNICODE[_upper] = rf"$\{_cap}$"
    else:  # capitals that look like Latin letters (A, B, E, Z, H, I, K, M, N, O, P, T, X); chi -> X, rho -> P
        _LATEX_UNICODE[_upper] = {"alpha": "A", "beta": "B", "epsilon": "E", "zeta": "Z", "eta": "H", "iota": "I",
                                  "kappa": "K", "mu": "M", "nu": "N", "omicron": "O", "rho": "P", "tau": "T",
                                  "chi": "X"}[_name]
_LATEX_UNICODE.update({
    "ς": r"$\varsigma$", "ϵ": r"$\epsilon$", "ϑ": r"$\vartheta$", "ϕ": r"$\phi$", "ϱ": r"$\varrho$",
    "µ": r"$\mu$",
    # math and punctuation used in metric names, notes and numbers
    "−": "$-$", "±": r"$\pm$", "∓": r"$\mp$", "·": r"$\cdot$", "×": r"$\times$", "÷": r"$\div$",
    "→": r"$\rightarrow$", "←": r"$\leftarrow$", "↔": r"$\leftrightarrow$", "⇒": r"$\Rightarrow$",
    "≥": r"$\geq$", "≤": r"$\leq$", "≠": r"$\neq$", "≈": r"$\approx$", "≡": r"$\equiv$", "∼": r"$\sim$",
    "∞": r"$\infty$", "√": r"$\surd$", "∑": r"$\sum$", "∏": r"$\prod$", "∈": r"$\in$", "∅": r"$\emptyset$",
    "∂": r"$\partial$", "∇": r"$\nabla$", "∫": r"$\int$", "⊂": r"$\subset$", "∩": r"$\cap$", "∪": r"$\cup$",
    "′": r"$'$", "″": r"$''$", "°": r"$^{\circ}$", "‰": r"\textperthousand{}", "¬": r"$\neg$",
    "–": "--", "—": "---", "‐": "-", "‑": "-", "‒": "--", "―": "---",
    "‘": "`", "’": "'", "‚": ",", "“": "``", "”": "''", "„": ",,", "«": r"$\ll$",
    "»": r"$\gg$", "‹": r"$\langle$", "›": r"$\rangle$",
    "…": r"\ldots{}", "•": r"\textbullet{}", "†": r"\dag{}", "‡": r"\ddag{}", "§": r"\S{}", "¶": r"\P{}",
    "©": r"\copyright{}", "®": r"\textregistered{}", "™": r"\texttrademark{}", "€": "EUR", "£": r"\pounds{}",
    "¢": "c", "¥": "JPY", "¡": r"!`", "¿": r"?`", "\u00a0": "~", "\u2009": r"\,", "\u202f": r"\,",
    "\u200b": "", "\u2002": r"\enskip{}", "\u2003": r"\quad{}", "\ufeff": "",
    "ß": r"\ss{}", "æ": r"\ae{}", "Æ": r"\AE{}", "œ": r"\oe{}", "Œ": r"\OE{}", "ø": r"\o{}", "Ø": r"\O{}",
    "ł": r"\l{}", "Ł": r"\L{}", "ı": r"\i{}", "ȷ": r"\j{}", "å": r"\aa{}", "Å": r"\AA{}",
    "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ŋ": "ng", "Ŋ": "Ng", "đ": "d", "Đ": "D",
})
_SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎"
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾"
for _k, _c in enumerate("0123456789+-=()"):
    _LATEX_UNICODE[_SUBSCRIPTS[_k]] = f"$_{{{_c}}}$"
    _LATEX_UNICODE[_SUPERSCRIPTS[_k]] = f"$^{{{_c}}}$"
_LATEX_UNICODE.update({"ⁿ": "$^{n}$", "ᵢ": "$_{i}$", "ⱼ": "$_{j}$", "ₖ": "$_{k}$", "ₙ": "$_{n}$"})
#: Combining accents (after Unicode decomposition) -> LaTeX accent commands of the default (OT1) encoding.
_LATEX_ACCENTS = {"\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u",
                  "\u0307": ".", "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0327": "c",
                  "\u0323": "d", "\u0331": "b"}
_LATEX_TABLE = str.maketrans({**_LATEX_SPECIAL, **_LATEX_UNICODE})
#: The Greek letters of metric names (kept for callers that used it).
_LATEX_GREEK = {c: v for c, v in _LATEX_UNICODE.items() if v.startswith("$")}


def _latex_char(ch: str) -> str:
    """LaTeX for one character outside printable ASCII that has no entry in the tables: a letter with
    accents as accent commands, else its compatibility form (e.g. full-width letters), else ``[U+XXXX]``."""
    import unicodedata

    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[:1], decomposed[1:]
    if base.isascii() and base.isalpha() and marks and all(m in _LATEX_ACCENTS for m in marks):
        out = {"i": r"\i", "j": r"\j"}.get(base, base)
        for m in marks:
            cmd = _LATEX_ACCENTS[m]
            out = f"\\{cmd}{{{out}}}"
        return out
    compat = unicodedata.normalize("NFKD", ch)
    if compat != ch and all(c.isascii() or unicodedata.combining(c) for c in compat):
        return latex_escape("".join(c for c in compat if c.isascii()))
    if unicodedata.category(ch).startswith(("C", "Z")):  # other controls and spaces
        return " " if unicodedata.category(ch).startswith("Z") else ""
    return f"[U+{ord(ch):04X}]"


def latex_escape(text: Any) -> str:
    r"""Escape a string for LaTeX text mode so that it compiles with plain ``pdflatex`` (no extra packages).

    The ten special characters and ``< > |`` are written as commands, Greek letters and the math signs of metric names (``κ ρ τ − ± ≥
    → ₊ ²`` ...) in math mode, dashes and quotes as their TeX ligatures, accented letters with accent
    commands. Any other character outside ASCII is written as ``[U+XXXX]``, so every string compiles.

    >>> print(latex_escape("a_b & 50% {x} ~ ^ \\ $ # κ"))
    a\_b \& 50\% \{x\} \textasciitilde{} \textasciicircum{} \textbackslash{} \$ \# $\kappa$
    >>> print(latex_escape("Stuart–Maxwell χ², P₊ ≥ 0.5, é"))
    Stuart--Maxwell $\chi$$^{2}$, P$_{+}$ $\geq$ 0.5, \'{e}
    """
    s = str(text).translate(_LATEX_TABLE)
    if s.isascii():
        return s
    return "".join(c if c.isascii() else _latex_char(c) for c in s)


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
    layout: str = "wide",
    p_label: str = "p (adj.)",
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
    layout : {"wide", "long"}
        ``"wide"``: one column per metric (and level). ``"long"``: one row per (judge, metric) with the columns
        Judge, Metric, estimate [CI], the adjusted p-value (when any row has one; headed ``p_label``) and n,
        which suits the bias probes (many metrics, few judges).
    p_label : str
        Header of the p-value column of the long layout.

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
    if layout not in ("wide", "long"):
        raise ValueError(f"layout must be 'wide' or 'long'; got {layout!r}.")
    if layout == "long":
        return _to_latex_long(df, groups, metrics, caption=caption, label=label, digits=digits, p_label=p_label)
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
            cells = [_first_cell(latex_escape(name))]
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


def _first_cell(text: str) -> str:
    """A row's first cell, safe after ``\\\\``: a leading ``[`` or ``*`` would be read as an argument of the
    line break, so it is preceded by ``{}``."""
    return "{}" + text if text.lstrip().startswith(("[", "*")) else text


def _latex_p(p: Any) -> str:
    try:
        f = float(p)
    except (TypeError, ValueError):
        return "---"
    if not math.isfinite(f):
        return "---"
    return "$<$0.001" if f < 0.001 else f"{f:.3f}"


def _name_with_reference(part: pd.DataFrame, judge: str, ref: str, section: str) -> str:
    n_refs = part.loc[part["judge"].astype(str) == judge, "reference"].nunique()
    return judge if (n_refs <= 1 and section != "ceiling") or not ref else f"{judge} vs {ref}"


def _to_latex_long(df: pd.DataFrame, groups: Sequence[tuple[str, str]], metrics: Sequence[str], *,
                   caption: str | None, label: str | None, digits: int, p_label: str) -> str:
    """The long layout of :func:`to_latex`: one row per (judge, reference, metric, level)."""
    has_p = bool(pd.to_numeric(df["p_adjusted"], errors="coerce").notna().any())
    ncol = 4 + (1 if has_p else 0)
    ci = latex_escape(f"estimate [{format_confidence(df['confidence_level'])}]")
    lines = [r"\begin{table}[htbp]", r"\centering"]
    if caption is not None:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    if label is not None:
        lines.append(rf"\label{{{label}}}")
    lines += [rf"\begin{{tabular}}{{ll{'c' * (ncol - 2)}}}", r"\toprule"]
    head = ["Judge", "Metric", ci, *([latex_escape(p_label)] if has_p else []), "n"]
    lines.append(" & ".join(head) + r" \\")
    order = {m: k for k, m in enumerate(metrics)}
    for section, probe in groups:
        part = df[df["section"].astype(str) == section]
        if section == "probe":
            part = part[part["probe"] == probe]
        part = part[part["metric"].isin(list(metrics))]
        if part.empty:
            continue
        lines.append(r"\midrule")
        title = _SECTION_TITLES.get(section, section)
        if section == "probe" and probe:
            title = f"{title}: {probe_title(probe)}"
        lines.append(rf"\multicolumn{{{ncol}}}{{l}}{{\emph{{{latex_escape(title)}}}}} \\")
        for judge, ref in _unique(zip(part["judge"].astype(str), part["reference"], strict=True)):
            rows = part[(part["judge"].astype(str) == judge) & (part["reference"] == ref)]
            rows = rows.iloc[sorted(range(len(rows)), key=lambda k: order.get(str(rows["metric"].iloc[k]), 0))]
            name = _first_cell(latex_escape(_name_with_reference(part, judge, ref, section)))
            for k, (_, r) in enumerate(rows.iterrows()):
                lv = str(r["level"])
                metric = display_name(str(r["metric"])) + ("" if lv == "item" else f" ({lv})")
                n = r.get("n")
                n_text = "" if n is None or pd.isna(n) else f"{int(float(n)):,}".replace(",", "{,}")
                cells = [name if k == 0 else "", latex_escape(metric),
                         _latex_cell(r["estimate"], r["ci_low"], r["ci_high"], digits),
                         *([_latex_p(r.get("p_adjusted"))] if has_p else []), n_text]
                lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------------------------------- leaderboard
#: Columns of :func:`leaderboard`.
LEADERBOARD_COLUMNS: list[str] = ["rank", "judge", "run", "kind", "metric", "level", "estimate", "ci_low", "ci_high",
                                  "confidence_level", "n", "reference", "note"]


def _runs(runs: Any) -> list[tuple[str, Analysis]]:
    if isinstance(runs, Analysis):
        return [(str(runs.title), runs)]
    if isinstance(runs, Mapping):
        return [(str(k), v) for k, v in runs.items()]
    return [(str(k), v) for k, v in runs]


def _headline(analysis: Analysis) -> list[str]:
    from .html import HEADLINE_METRICS, headline_metrics

    res = analysis.results
    present = _unique(res.loc[(res["section"].astype(str) == "agreement")
                              & (res["slice"].fillna("all").astype(str) == "all"), "metric"].astype(str))
    first = headline_metrics(analysis)
    return _unique([*first, *(m for m in HEADLINE_METRICS if m in present), *present])


def leaderboard(runs: Any, metric: str | None = None) -> pd.DataFrame:
    """One leaderboard of the judges of one or several runs, ranked by a headline metric.

    Parameters
    ----------
    runs : Analysis, mapping of label to Analysis, or sequence of (label, Analysis)
        Runs on the same gold set (see :func:`metajudge.report.load.check_comparable`). The label names the
        run in the ``run`` column and prefixes judge names that occur in more than one run
        (``"<label> / <judge>"``).
    metric : str, optional
        snake_case metric; default: the headline metric of the first run (the report's forest plot) when
        every run has it, else the first headline metric that every run has.

    Returns
    -------
    DataFrame
        :data:`LEADERBOARD_COLUMNS`: one row per judge (agreement section, slice ``all``, the metric at item
        level, else its first level), ranked by estimate (1 = best; ties share a rank; undefined estimates
        last, without rank), then the human ceiling (``kind`` ``"human ceiling"``, without rank): one row per
        distinct estimate over the runs (runs on one gold set share it; the interval shown is the first
        such run's).

    Raises
    ------
    ValueError
        When no metric is common to every run, or ``metric`` is missing from one.
    """
    pairs = _runs(runs)
    if not pairs:
        raise ValueError("no runs to rank.")
    if metric is None:
        candidates = _headline(pairs[0][1])
        common = [m for m in candidates if all(m in set(_headline(a)) for _, a in pairs[1:])]
        if not common:
            raise ValueError("the runs have no agreement metric in common; choose runs with the same metrics.")
        metric = common[0]
    counts: dict[str, int] = {}
    for _, a in pairs:
        judges = _unique(a.results.loc[a.results["section"].astype(str) == "agreement", "judge"].astype(str))
        for j in judges:
            counts[j] = counts.get(j, 0) + 1
    rows: list[dict[str, Any]] = []
    ceilings: list[dict[str, Any]] = []
    for run_label, a in pairs:
        res = _ordered(a.results, RESULT_COLUMNS)
        sel = res[(res["metric"].astype(str) == metric) & (res["slice"].fillna("all").astype(str) == "all")]
        if not (sel["section"].astype(str) == "agreement").any():
            raise ValueError(f"run {run_label!r} has no agreement rows for metric {metric!r}.")
        levels = _unique(sel.loc[sel["section"].astype(str) == "agreement", "level"].fillna("item").astype(str))
        level = "item" if "item" in levels else levels[0]
        sel = sel[sel["level"].fillna("item").astype(str) == level]
        agree = sel[sel["section"].astype(str) == "agreement"]
        for judge in _unique(agree["judge"].astype(str)):
            r = agree[agree["judge"].astype(str) == judge].iloc[0]
            name = f"{run_label} / {judge}" if counts.get(judge, 0) > 1 else judge
            rows.append({"rank": math.nan, "judge": name, "run": run_label, "kind": "judge", "metric": metric,
                         "level": level, "estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                         "confidence_level": r["confidence_level"], "n": r["n"],
                         "reference": "" if pd.isna(r["reference"]) else str(r["reference"]),
                         "note": "" if pd.isna(r["note"]) else str(r["note"])})
        ceil = sel[(sel["section"].astype(str) == "ceiling") & (sel["judge"].astype(str) == "human_ceiling")]
        if len(ceil):
            r = ceil.iloc[0]
            ceilings.append({"rank": math.nan, "judge": "human ceiling", "run": run_label, "kind": "human ceiling",
                             "metric": metric, "level": level, "estimate": r["estimate"], "ci_low": r["ci_low"],
                             "ci_high": r["ci_high"], "confidence_level": r["confidence_level"], "n": r["n"],
                             "reference": "" if pd.isna(r["reference"]) else str(r["reference"]),
                             "note": "" if pd.isna(r["note"]) else str(r["note"])})
    board = pd.DataFrame(rows, columns=LEADERBOARD_COLUMNS)
    if len(board):
        est = pd.to_numeric(board["estimate"], errors="coerce")
        order = sorted(range(len(board)), key=lambda k: (math.isnan(est.iloc[k]), -est.iloc[k]
                                                         if not math.isnan(est.iloc[k]) else 0.0, k))
        board = board.iloc[order].reset_index(drop=True)
        board["rank"] = pd.to_numeric(board["estimate"], errors="coerce").rank(method="min", ascending=False)
    seen: list[tuple[Any, ...]] = []
    kept = []
    for c in ceilings:
        # the same gold set gives the same ceiling estimate; its interval differs between runs only by
        # bootstrap noise (other judges draw from the same seeded generator), so the first run's is shown
        key = tuple(to_jsonable(c[k]) for k in ("estimate", "n", "reference"))
        if key not in seen:
            seen.append(key)
            kept.append(c)
    if len(kept) > 1:
        for c in kept:
            c["judge"] = f"human ceiling ({c['run']})"
    if kept:
        board = pd.concat([board, pd.DataFrame(kept, columns=LEADERBOARD_COLUMNS)], ignore_index=True) \
            if len(board) else pd.DataFrame(kept, columns=LEADERBOARD_COLUMNS)
    board["rank"] = pd.to_numeric(board["rank"], errors="coerce").astype("Int64")
    for c in ("estimate", "ci_low", "ci_high", "confidence_level"):
        board[c] = pd.to_numeric(board[c], errors="coerce").astype("float64")
    return board


def leaderboard_to_latex(board: pd.DataFrame, *, caption: str | None = None, label: str | None = None,
                         digits: int = 3) -> str:
    r"""A booktabs table of :func:`leaderboard`: rank, judge, run (when there are several), the metric's
    estimate [CI] and n; the human ceiling below a rule. Every string is escaped.

    >>> import pandas as pd
    >>> board = pd.DataFrame([{"rank": 1, "judge": "gpt-4o_mini", "run": "r", "kind": "judge",
    ...     "metric": "cohen_kappa", "level": "item", "estimate": 0.5, "ci_low": 0.4, "ci_high": 0.6,
    ...     "confidence_level": 0.95, "n": 300}])
    >>> print(leaderboard_to_latex(board).splitlines()[6])
    1 & gpt-4o\_mini & 0.500 [0.400, 0.600] & 300 \\
    """
    board = board.reindex(columns=LEADERBOARD_COLUMNS)
    runs = _unique(board["run"].astype(str))
    with_run = len(runs) > 1
    metrics = _unique(board["metric"].astype(str))
    levels = _unique(board["level"].fillna("item").astype(str))
    name = " / ".join(display_name(m) for m in metrics) or "Estimate"
    if levels and levels != ["item"]:
        name += f" ({', '.join(levels)})"
    cols = ["\\#", "Judge", *(["Run"] if with_run else []),
            latex_escape(f"{name} [{format_confidence(board['confidence_level'])}]"), "n"]
    lines = [r"\begin{table}[htbp]", r"\centering"]
    if caption is not None:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    if label is not None:
        lines.append(rf"\label{{{label}}}")
    lines += [rf"\begin{{tabular}}{{rl{'l' if with_run else ''}cr}}", r"\toprule", " & ".join(cols) + r" \\",
              r"\midrule"]
    ruled = False
    for _, r in board.iterrows():
        if str(r["kind"]) != "judge" and not ruled:
            lines.append(r"\midrule")
            ruled = True
        rank = "" if pd.isna(r["rank"]) else str(int(r["rank"]))
        n = "" if pd.isna(r["n"]) else f"{int(float(r['n'])):,}".replace(",", "{,}")
        cells = [rank, latex_escape(r["judge"]), *([latex_escape(r["run"])] if with_run else []),
                 _latex_cell(r["estimate"], r["ci_low"], r["ci_high"], digits), n]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"
