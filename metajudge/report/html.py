"""The HTML report: one self-contained file rendered from the templates shipped in the package.

The page has inline CSS and inline SVG figures and nothing else: no scripts, fonts, images or links that
leave the file, so it opens offline and can be mailed or archived. Jinja2 autoescaping is on, so every
string that came from the data (judge names, item ids, system names, raw judge outputs, probe notes) is
escaped. The machine-readable
results (the same JSON as ``results.json``) are embedded in a ``<script type="application/json"
id="metajudge-results">`` block with ``<``, ``>`` and ``&`` written as ``\\u003c``, ``\\u003e`` and
``\\u0026`` so that data cannot close the block.

Rendering is deterministic: the output depends only on the :class:`~metajudge.results.Analysis` (the
creation time shown is the one recorded in its provenance).

The page opens with a summary (three lines per judge: the headline metric with its interval; where the judge
sits against the human ceiling, on the same leave-one-annotator-out references, and against the best null
baseline; the bias-probe tests significant after Holm) and a leaderboard (judges sorted by the headline
metric, the human ceiling and the baselines as rows, significance groups as a compact letter display of the
Holm-adjusted paired comparisons: :func:`compact_letter_display`, :func:`significance_letters`). The worst
disagreements (``analysis.extra["disagreements"]``, see :mod:`metajudge.disagreements`) show the texts
escaped, cut at 200 characters with the whole text in a ``<details>`` element, and the methods section is
generated from what was computed (metrics with definitions and references, the interval methods found in
the ``method`` column, level, resamples, seed, Holm families, conventions, unparseable policies). No script
runs: sorting tables by clicking would need one, and the only ``<script>`` element is the JSON data block.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from ..results import COVERAGE_COLUMNS, DISPLAY_NAMES, PROBLEM_COLUMNS, RESULT_COLUMNS, Analysis, display_name
from .export import (
    PROBE_ORDER,
    PROBE_TITLES,
    _ordered,
    analysis_to_dict,
    format_confidence,
    metajudge_version,
    probe_sort_key,
    probe_title,
    safe_filename,
    write_json,
    write_tables,
)

if TYPE_CHECKING:  # pragma: no cover
    from jinja2 import Environment
    from matplotlib.figure import Figure

__all__ = ["CI_METHODS", "FIGURE_FORMATS", "HEADLINE_METRICS", "METRIC_DEFINITIONS", "PROBE_FRAME_KINDS",
           "PROBE_ORDER", "PROBE_TITLES", "REFERENCES", "SIGNIFICANCE_ALPHA", "compact_letter_display",
           "headline_metrics", "render_html", "significance_letters", "write_report"]

#: Priority list for the headline metric (the first one present is plotted as a forest plot).
HEADLINE_METRICS: tuple[str, ...] = (
    "cohen_kappa_quadratic", "krippendorff_alpha_ordinal", "krippendorff_alpha_interval",
    "krippendorff_alpha_nominal", "krippendorff_alpha_ratio", "cohen_kappa", "spearman",
)

#: Metrics preferred for the columns of the main agreement table, in this order.
_MAIN_PRIORITY: tuple[str, ...] = (
    "percent_agreement", "accuracy", "cohen_kappa", "cohen_kappa_linear", "cohen_kappa_quadratic",
    "krippendorff_alpha_nominal", "krippendorff_alpha_ordinal", "krippendorff_alpha_interval",
    "krippendorff_alpha_ratio", "gwet_ac1", "gwet_ac2_linear", "gwet_ac2_quadratic", "balanced_accuracy",
    "f1", "mcc", "spearman", "pearson", "kendall_tau", "kendall_tau_c", "mean_difference",
)
_MAX_MAIN_METRICS = 6

FIGURE_FORMATS: tuple[str, ...] = ("svg", "pdf", "png")

#: Coverage columns that count problems; non-zero values are highlighted.
_PROBLEM_COUNTS = ("missing_in_gold", "missing_in_judge", "duplicate_rows", "unparseable", "out_of_scale",
                   "missing_label", "excluded_rows", "fallback_rows", "reference_undefined")
_COVERAGE_HEADERS = {
    "source": "Source", "kind": "Kind", "rows": "Rows", "items": "Items", "matched_items": "Matched items",
    "missing_in_gold": "Missing in gold", "missing_in_judge": "Missing in judge",
    "duplicate_rows": "Duplicate rows", "unparseable": "Unparseable", "out_of_scale": "Out of scale",
    "missing_label": "Missing label", "excluded_rows": "Excluded rows", "fallback_rows": "Fallback rows",
    "reference_undefined": "Reference undefined",
}
_SECTIONS = {  # section -> (group title, row tag)
    "agreement": ("LLM judges", "judge"),
    "ceiling": ("Human ceiling (leave one annotator out)", "ceiling"),
    "baseline": ("Null baselines", "baseline"),
}
#: Plot drawn for a probe frame, by frame name (frames named otherwise are recognised by their columns).
PROBE_FRAME_KINDS: dict[str, str] = {
    "classes": "position_classes", "position_classes": "position_classes",
    "prefer_longer": "prefer_longer", "length_score": "length_score",
    "self_preference": "self_preference", "bars": "self_preference",
    "bland_altman": "bland_altman",
    "distribution": "score_distribution", "score_distribution": "score_distribution",
    "ranking": "system_ranking", "system_ranking": "system_ranking",
}
#: Required columns of each probe plot, used to recognise frames with other names.
_FRAME_COLUMNS: dict[str, tuple[str, ...]] = {
    "position_classes": ("judge", "cls", "count"),
    "prefer_longer": ("rater", "bin", "rate"),
    "length_score": ("rater", "bin", "score"),
    "bland_altman": ("judge", "mean", "diff"),
    "score_distribution": ("rater", "value", "share"),
    "system_ranking": ("system", "human_score", "judge_score"),
    "self_preference": ("judge", "group", "value"),
}
_RAW_LIMIT = 300
_PROBLEM_EXAMPLES = 10
_DASH = "—"
_MINUS = "\u2212"


# ------------------------------------------------------------------------------------------ formatting
def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _num(x: Any, digits: int = 3) -> str:
    """A float with ``digits`` decimals, a true minus sign and thousands separators; "—" when missing."""
    if _missing(x):
        return _DASH
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(f):
        return _DASH if math.isnan(f) else ("∞" if f > 0 else _MINUS + "∞")
    text = f"{f:,.{digits}f}"
    if text.startswith("-") and float(text) == 0:  # -0.000 after rounding
        text = text[1:]
    return text.replace("-", _MINUS)


def _count(x: Any) -> str:
    """An integer count with thousands separators ("3,355"); "—" when missing."""
    if _missing(x):
        return _DASH
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    return f"{int(f):,}" if f.is_integer() else f"{f:,.2f}"


def _pvalue(p: Any) -> str:
    if _missing(p):
        return _DASH
    p = float(p)
    if p == 0:
        return "0"
    return f"{p:.2e}".replace("-", _MINUS) if p < 0.001 else f"{p:.3f}"


def _ci(lo: Any, hi: Any, digits: int = 3) -> str:
    if _missing(lo) or _missing(hi):
        return ""
    return f"[{_num(lo, digits)}, {_num(hi, digits)}]"


def _str(x: Any) -> str:
    return "" if _missing(x) else str(x)


def _level(x: Any) -> str:
    s = _str(x)
    return s or "item"


def _cell(row: Mapping[str, Any]) -> dict[str, str]:
    """Estimate and interval of one result row as display text with its note."""
    note = _str(row.get("note"))
    if _missing(row.get("estimate")):
        return {"text": _DASH, "ci": "", "note": note or "undefined", "cls": "undefined"}
    return {"text": _num(row.get("estimate")), "ci": _ci(row.get("ci_low"), row.get("ci_high")), "note": note,
            "cls": ""}


def _metric_label(metric: str) -> str:
    """Display name of a metric; ``<metric>_difference`` (judge comparisons) shows as "Δ <display name>" and
    ``<metric>_peer_adjusted`` (self-preference) as "<display name> (peer-adjusted)" unless named."""
    if metric in DISPLAY_NAMES:
        return display_name(metric)
    if metric.endswith("_peer_adjusted"):
        return _metric_label(metric.removesuffix("_peer_adjusted")) + " (peer-adjusted)"
    if metric.endswith("_difference"):
        return "Δ " + display_name(metric.removesuffix("_difference"))
    return display_name(metric)


def _truncate(text: str, limit: int = _RAW_LIMIT) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    return text[:limit], True


def _json_for_html(text: str) -> Markup:
    """JSON text that is safe inside ``<script type="application/json">``: ``<``, ``>``, ``&`` and the
    line separators are written as ``\\uXXXX`` escapes (they can only occur inside JSON strings)."""
    for ch, esc in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return Markup(text)  # noqa: S704 - every character that could end the block is escaped above


def _unique(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


# ------------------------------------------------------------------------------------------ selection
def _tidy(results: pd.DataFrame) -> pd.DataFrame:
    df = _ordered(results, RESULT_COLUMNS).reset_index(drop=True)
    return df.assign(
        section=df["section"].map(_str),
        judge=df["judge"].map(_str),
        reference=df["reference"].map(_str),
        metric=df["metric"].map(_str),
        level=df["level"].map(_level),
        slice=df["slice"].map(lambda s: _str(s) or "all"),
        probe=df["probe"].map(_str),
    )


def headline_metrics(analysis: Analysis) -> list[str]:
    """The metric(s) drawn as forest plots: ``analysis.extra["headline_metrics"]`` when given, else the
    first of :data:`HEADLINE_METRICS` (the Krippendorff α matching the scale first among the α's) that the
    judges have in the agreement section, else the first metric there."""
    df = _tidy(analysis.results)
    judged = df[(df["slice"] == "all") & (df["section"] == "agreement")]
    present = _unique(judged["metric"])
    chosen = analysis.extra.get("headline_metrics") if isinstance(analysis.extra, Mapping) else None
    if chosen:
        return [m for m in chosen if m in present]
    kind = getattr(analysis.scale, "kind", "")
    alpha = {"ordinal": "krippendorff_alpha_ordinal", "interval": "krippendorff_alpha_interval"}.get(
        kind, "krippendorff_alpha_nominal")
    # the Krippendorff alpha that matches the scale goes first among the alphas
    alphas = [m for m in HEADLINE_METRICS if m.startswith("krippendorff")]
    alphas.sort(key=lambda m: m != alpha)
    priority = [HEADLINE_METRICS[0], *alphas, *(m for m in HEADLINE_METRICS[1:] if m not in alphas)]
    for m in priority:
        if m in present:
            return [m]
    return present[:1]


def _main_metrics(analysis: Analysis, rows: pd.DataFrame, headline: Sequence[str]) -> list[str]:
    present = _unique(rows["metric"])
    chosen = analysis.extra.get("main_metrics") if isinstance(analysis.extra, Mapping) else None
    if chosen:
        return [m for m in chosen if m in present]
    picked = [m for m in headline if m in present]
    picked += [m for m in _MAIN_PRIORITY if m in present and m not in picked]
    picked += [m for m in present if m not in picked]
    return picked[:_MAX_MAIN_METRICS]


# -------------------------------------------------------------------------------------------- tables
def _wide_groups(rows: pd.DataFrame, metrics: Sequence[str], group_by: str = "section") -> list[dict[str, Any]]:
    """Rows of the judge x metric table, grouped (by section, or by slice then section)."""
    groups: list[dict[str, Any]] = []
    keys = _unique(rows[group_by]) if group_by != "section" else [s for s in _SECTIONS if s in set(rows["section"])]
    for key in keys:
        part = rows[rows[group_by] == key]
        if group_by == "section":
            title = _SECTIONS[key][0]
        else:
            title = f"{group_by}: {key}"
        out_rows = []
        sections = [s for s in _SECTIONS if s in set(part["section"])]
        for section in sections:
            sec = part[part["section"] == section]
            for judge, ref in _unique(zip(sec["judge"], sec["reference"], strict=True)):
                these = sec[(sec["judge"] == judge) & (sec["reference"] == ref)]
                cells = []
                for m in metrics:
                    hit = these[these["metric"] == m]
                    cells.append(_cell(hit.iloc[0].to_dict()) if len(hit) else
                                 {"text": "", "ci": "", "note": "", "cls": "absent"})
                row_note = ""
                notes = {c["note"] for c in cells if c["cls"] == ""}
                if len(cells) > 1 and len(notes) == 1 and "" not in notes:
                    row_note = notes.pop()  # the same note in every defined cell: show it once for the row
                    for c in cells:
                        if c["cls"] == "":
                            c["note"] = ""
                ns = sorted({int(float(v)) for v in these.loc[these["metric"].isin(metrics), "n"]
                             if not _missing(v)})
                n = _DASH if not ns else (_count(ns[0]) if len(ns) == 1 else f"{_count(ns[0])}–{_count(ns[-1])}")
                kind = _str(these["rater_kind"].iloc[0])
                tag = _SECTIONS[section][1]
                if section == "ceiling":
                    tag = "human" if kind == "human" else "judge (ceiling)"
                out_rows.append({"judge": judge, "reference": ref, "tag": tag, "cls": section, "n": n,
                                 "tag_cls": tag.replace(" (ceiling)", "-ceiling"), "note": row_note, "cells": cells})
        groups.append({"title": title, "rows": out_rows})
    return groups


def _metric_headers(rows: pd.DataFrame, metrics: Sequence[str]) -> list[dict[str, str]]:
    return [{"name": display_name(m), "key": m,
             "ci": format_confidence(rows.loc[rows["metric"] == m, "confidence_level"])} for m in metrics]


def _long_rows(rows: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for rec in rows.to_dict("records"):
        cell = _cell(rec)
        out.append({
            "section": rec["section"], "judge": rec["judge"], "reference": rec["reference"],
            "metric": _metric_label(rec["metric"]), "metric_key": rec["metric"], "level": rec["level"],
            "slice": rec["slice"], "estimate": cell["text"], "ci": cell["ci"], "cls": cell["cls"],
            "confidence": format_confidence([rec.get("confidence_level")]).removesuffix(" CI"),
            "n": _count(rec.get("n")), "method": _str(rec.get("method")), "note": _str(rec.get("note")),
            "p_value": _pvalue(rec.get("p_value")), "p_adjusted": _pvalue(rec.get("p_adjusted")),
        })
    return out


def _coverage(analysis: Analysis) -> dict[str, Any]:
    cov = _ordered(analysis.coverage, COVERAGE_COLUMNS)
    columns = [c for c in COVERAGE_COLUMNS if c not in ("source", "kind", "path")]
    columns = [c for c in columns if c in cov.columns and not cov[c].map(_missing).all()] if len(cov) else []
    rows = []
    for rec in cov.to_dict("records"):
        cells = []
        for c in columns:
            v = rec.get(c)
            bad = c in _PROBLEM_COUNTS and not _missing(v) and float(v) != 0
            cells.append({"text": _count(v), "cls": "warn" if bad else ""})
        rows.append({"source": _str(rec.get("source")), "kind": _str(rec.get("kind")),
                     "path": _str(rec.get("path")), "cells": cells})
    summary = []
    for rec in cov.to_dict("records"):
        parts = []
        for c in ("rows", "items", "matched_items", "missing_in_judge", "unparseable", "out_of_scale"):
            v = rec.get(c)
            if not _missing(v) and (c in ("rows", "items", "matched_items") or float(v) != 0):
                parts.append(f"{_count(v)} {_COVERAGE_HEADERS[c].lower()}")
        summary.append({"source": _str(rec.get("source")), "text": ", ".join(parts)})
    return {"headers": [_COVERAGE_HEADERS.get(c, c) for c in columns], "rows": rows, "summary": summary}


def _problems(analysis: Analysis) -> dict[str, Any]:
    probs = _ordered(analysis.problems, PROBLEM_COLUMNS)
    rows, hidden = [], 0
    seen: dict[tuple[str, str], int] = {}
    for rec in probs.to_dict("records"):
        key = (_str(rec.get("source")), _str(rec.get("problem")))
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > _PROBLEM_EXAMPLES:
            hidden += 1
            continue
        raw = _str(rec.get("raw"))
        text, cut = _truncate(raw)
        rows.append({"source": key[0], "problem": key[1], "item_id": _str(rec.get("item_id")),
                     "row": _count(rec.get("row")), "raw": text, "truncated": cut, "raw_length": f"{len(raw):,}"})
    return {"rows": rows, "hidden": hidden, "total": len(probs)}


def _scale_summary(analysis: Analysis) -> str:
    scale = analysis.scale
    levels = getattr(scale, "levels", None)
    if not levels:
        lo, hi = getattr(scale, "minimum", None), getattr(scale, "maximum", None)
        rng = f" [{_str(lo) or '−∞'}, {_str(hi) or '∞'}]" if (lo is not None or hi is not None) else ""
        return f"{scale.kind}{rng}"
    sep = " < " if scale.kind in ("ordinal", "binary", "pairwise") else ", "
    return f"{scale.kind}: {sep.join(str(v) for v in levels)}"


def _provenance(analysis: Analysis) -> dict[str, Any]:
    prov = analysis.provenance if isinstance(analysis.provenance, Mapping) else {}
    created = next((prov[k] for k in ("created_at", "created", "timestamp", "date") if prov.get(k)), None)
    versions = prov.get("versions") if isinstance(prov.get("versions"), Mapping) else {}
    inputs = prov.get("inputs") if isinstance(prov.get("inputs"), Mapping) else {}
    shown = {"versions", "inputs", "seed", "created_by", "created_at", "created", "timestamp", "date",
             "n_resamples", "confidence_level", "config_path"}
    other = {str(k): v for k, v in prov.items() if k not in shown}
    return {
        "version": metajudge_version(analysis),
        "seed": _str(prov.get("seed")) or _DASH,
        "n_resamples": _str(prov.get("n_resamples")),
        "confidence_level": _str(prov.get("confidence_level")),
        "config_path": _str(prov.get("config_path")),
        "created": _str(created) or _DASH,
        "created_by": _str(prov.get("created_by")),
        "versions": [(str(k), _str(v)) for k, v in versions.items()],
        "inputs": [(str(k), _str(v)) for k, v in inputs.items()],
        "other": json.dumps(other, indent=2, ensure_ascii=False, default=str, sort_keys=False) if other else "",
        "config": json.dumps(analysis.config, indent=2, ensure_ascii=False, default=str) if analysis.config else "",
    }


# ------------------------------------------------------------------------------------------- figures
@dataclass
class _Figure:
    name: str       # file stem, e.g. "forest_cohen_kappa" or "confusion_gpt-judge"
    kind: str       # "leaderboard" | "forest" | "confusion" | "probe"
    subject: str    # metric display name, judge name, or probe plot kind
    alt: str
    figure: Figure
    probe: str = ""  # the probe family, for kind "probe"
    key: int = -1    # index of the probe entry (see _probe_entries), for kind "probe"


def _figures(analysis: Analysis, headline: Sequence[str]) -> list[_Figure]:
    from ..plots import plot_confusion, plot_forest

    figs: list[_Figure] = []
    results = _ordered(analysis.results, RESULT_COLUMNS)
    board = board_metric(analysis)
    if board:
        lb = _leaderboard_figure(analysis, results, board)
        if lb is not None:
            figs.append(lb)
    for m in headline:
        try:
            ax = plot_forest(results, m)
        except ValueError:
            continue
        sub = results[(results["metric"] == m) & (results["section"].isin(list(_SECTIONS)))
                      & (results["slice"].fillna("all") == "all")]
        ci = format_confidence(sub["confidence_level"])
        alt = (f"Forest plot of {display_name(m)}: point estimate and {ci} for each judge, human-ceiling row "
               f"and null baseline ({len(sub)} rows); the numbers are in the agreement table.")
        figs.append(_Figure(f"forest_{safe_filename(m)}", "forest", display_name(m), alt, ax.figure))
    used: set[str] = set()
    for judge, counts in analysis.confusion.items():
        if counts is None or counts.empty:
            continue
        name = safe_filename(judge)
        while name.lower() in used:
            name += "_"
        used.add(name.lower())
        refs = results.loc[(results["judge"] == judge) & (results["section"] == "agreement"), "reference"]
        ref = next((str(r) for r in refs if not _missing(r) and str(r)), "")
        labelled = counts.rename_axis(index=f"reference: {ref}" if ref else "reference", columns=f"judge: {judge}")
        ax = plot_confusion(labelled, title=f"Confusion matrix: {judge}")
        alt = (f"Confusion matrix of judge {judge}: rows are the reference levels "
               f"({', '.join(str(v) for v in counts.index)}), columns the judge's levels "
               f"({', '.join(str(v) for v in counts.columns)}), in the declared order; each cell shows the count "
               f"and its share of the row.")
        figs.append(_Figure(f"confusion_{name}", "confusion", str(judge), alt, ax.figure))
    figs += _probe_figures(analysis, used)
    return figs


def _leaderboard_figure(analysis: Analysis, results: pd.DataFrame, metric: str) -> _Figure | None:
    from ..plots import plot_leaderboard

    df = _tidy(results)
    board = _leaderboard(analysis, df, [metric])
    if board is None:
        return None
    letters = significance_letters(results, metric)
    try:
        ax = plot_leaderboard(results, metric, letters=letters)
    except ValueError:
        return None
    judges = [r for r in board["rows"] if r["kind"] == "judge"]
    humans = [r for r in board["rows"] if r["kind"] == "ceiling" and r["name"] == "human_ceiling"]
    bases = [r for r in board["rows"] if r["kind"] == "baseline"]
    listing = _listing([f"{r['name']} {r['main']['text']}" + (f" (group {r['letters']})" if r["letters"] else "")
                        for r in judges], 8)
    band = ""
    if humans and board["same_metric"]:
        h = humans[0]["loao"]
        band = (f"; the human ceiling (leave one annotator out) is the hatched band from its interval with a dashed "
                f"line at its estimate, {h['text']} {h['ci']}")
    alt = (f"Leaderboard of {board['metric']}: {len(judges)} judge(s) from highest to lowest ({listing}), each "
           f"a circle with its {board['ci']} against the aggregated human reference"
           + (" and a hollow diamond for its agreement with the leave-one-annotator-out references" if any(
               r["loao"]["cls"] != "absent" for r in judges) and board["same_metric"] else "")
           + band + (f"; {len(bases)} null baseline(s) below as triangles" if bases else "")
           + ". The numbers are in the leaderboard table.")
    return _Figure(f"leaderboard_{safe_filename(metric)}", "leaderboard", board["metric"], alt, ax.figure)


# ------------------------------------------------------------------------------------------ probes
@dataclass
class _ProbeEntry:
    probe: str               # probe family, e.g. "position"
    result: Any              # the ProbeResult, or None for result rows without one
    rows: pd.DataFrame       # its estimates (tidy result rows)


def _probe_entries(analysis: Analysis) -> list[_ProbeEntry]:
    """One entry per probe result (and per probe family that has result rows but no ProbeResult), in
    :data:`PROBE_ORDER` (unknown families after the known ones, in the order given)."""
    df = _tidy(analysis.results)
    rows = df[df["section"] == "probe"]
    entries: list[_ProbeEntry] = []
    seen: set[str] = set()
    for res in list(getattr(analysis, "probes", None) or []):
        name = _str(getattr(res, "probe", ""))
        if name in seen:  # a second result of the same family: its rows are shown with the first
            part = rows.iloc[0:0]
        else:
            part = rows[rows["probe"] == name]
            own = getattr(res, "rows", None) or []
            if part.empty and len(own):
                part = _tidy(pd.DataFrame(list(own)))
        seen.add(name)
        entries.append(_ProbeEntry(name, res, part.reset_index(drop=True)))
    for name in _unique(rows["probe"]):
        if name not in seen:
            seen.add(name)
            entries.append(_ProbeEntry(name, None, rows[rows["probe"] == name].reset_index(drop=True)))
    order = sorted(range(len(entries)), key=lambda k: (probe_sort_key(entries[k].probe), k))
    return [entries[k] for k in order]


def _frame_kind(name: str, frame: Any) -> str | None:
    """Which probe plot draws this frame: by its name, else by its columns; ``None`` for none."""
    if not isinstance(frame, pd.DataFrame):
        return None
    kind = PROBE_FRAME_KINDS.get(str(name))
    if kind is not None:
        return kind
    cols = set(frame.columns)
    for k, required in _FRAME_COLUMNS.items():
        if set(required) <= cols:
            return k
    return None


def _listing(values: Iterable[Any], limit: int = 6) -> str:
    vals = [str(v) for v in _unique(values)]
    if len(vals) > limit:
        return ", ".join(vals[:limit]) + f" and {len(vals) - limit} more"
    return ", ".join(vals)


def _column_values(frame: pd.DataFrame, column: str) -> list[Any]:
    return _unique(v for v in frame[column] if not _missing(v)) if column in frame.columns else []


def _probe_alt(kind: str, frame: pd.DataFrame, levels: Sequence[Any] | None) -> str:
    if kind == "position_classes":
        return (f"Stacked horizontal bars, one per judge ({_listing(_column_values(frame, 'judge'))}): the share "
                "of pairs judged in both presentation orders that were consistent, showed primacy (the first slot "
                "won) or recency (the second slot won); the counts are written in the bars and listed in the "
                "counts table.")
    if kind == "prefer_longer":
        return ("Line plot of the prefer-longer rate (the share of decisive pairs in which the longer response was "
                "preferred) against the difference in log length, for "
                f"{_listing(_column_values(frame, 'rater'))}; humans are drawn dashed in black, marker areas grow "
                "with the number of pairs, and the dotted line at 0.5 means no preference for length.")
    if kind == "length_score":
        return ("Line plot of the mean score per log-length bin for "
                f"{_listing(_column_values(frame, 'rater'))}; humans are drawn dashed in black and marker areas "
                "grow with the number of items in the bin.")
    if kind == "self_preference":
        metrics = [display_name(str(m)) for m in _column_values(frame, "metric")]
        panels = f", one panel per metric ({_listing(metrics)})" if len(metrics) > 1 else ""
        return (f"Grouped bars with confidence-interval whiskers{panels}: one cluster per judge "
                f"({_listing(_column_values(frame, 'judge'))}) and one bar per group "
                f"({_listing(_column_values(frame, 'group'))}); the estimates are in the table above.")
    if kind == "bland_altman":
        return ("Bland–Altman plot, one panel per judge "
                f"({_listing(_column_values(frame, 'judge')) or 'one judge'}): the difference between the judge's "
                "and the human score of each item against their mean; the solid line is the mean shift "
                "(leniency), the dashed lines the limits of agreement (mean ± 1.96 SD); marker areas grow with "
                "the number of items at a point.")
    if kind == "score_distribution":
        shown = [str(v) for v in (levels or [])] or [str(v) for v in _column_values(frame, "value")]
        return ("Grouped bars: the share of items at each score level "
                f"({_listing(shown, 12)}, in the declared order) for "
                f"{_listing(_column_values(frame, 'rater'))}.")
    if kind == "system_ranking":
        n_sys = len(_column_values(frame, "system"))
        judges = _column_values(frame, "judge")
        return (f"Scatter plot of the per-system judge score against the human score: one point per system "
                f"({n_sys} systems){f' and judge ({_listing(judges)})' if judges else ''}, labelled with the "
                "system name, with the identity line and each judge's trend line; the legend gives Spearman's ρ "
                "between the two system rankings.")
    return f"Plot of the {kind} probe data."


def _probe_figures(analysis: Analysis, used: set[str]) -> list[_Figure]:
    from .. import plots

    draw = {
        "position_classes": plots.plot_position_classes,
        "prefer_longer": plots.plot_prefer_longer,
        "length_score": plots.plot_prefer_longer,
        "self_preference": plots.plot_self_preference,
        "bland_altman": plots.plot_bland_altman,
        "score_distribution": plots.plot_score_distribution,
        "system_ranking": plots.plot_system_ranking,
    }
    scale_levels = list(getattr(analysis.scale, "levels", None) or [])
    figs: list[_Figure] = []
    for key, entry in enumerate(_probe_entries(analysis)):
        frames = getattr(entry.result, "frames", None) or {}
        for fname, frame in frames.items():
            kind = _frame_kind(fname, frame)
            if kind is None or frame.empty:
                continue
            levels: list[Any] | None = None
            if kind == "score_distribution" and scale_levels and "value" in frame.columns:
                declared = {str(v) for v in scale_levels}
                if {str(v) for v in _column_values(frame, "value")} <= declared:
                    levels = scale_levels
            if kind == "score_distribution":
                ax = draw[kind](frame, levels=levels)
            elif kind == "bland_altman":
                ax = draw[kind](frame, limits=_bland_altman_limits(entry.rows) or None)
            else:
                ax = draw[kind](frame)
            name = f"probe_{safe_filename(entry.probe or 'other')}_{safe_filename(fname)}"
            while name.lower() in used:
                name += "_"
            used.add(name.lower())
            figs.append(_Figure(name, "probe", kind, _probe_alt(kind, frame, levels), ax.figure, entry.probe, key))
    return figs


def _bland_altman_limits(rows: pd.DataFrame) -> dict[str, tuple[float, float, float]]:
    """judge -> (leniency_shift, bland_altman_lower, bland_altman_upper) from the probe's result rows, for the
    judges that have all three (slice "all"), so the plot shows the reported numbers."""
    out: dict[str, tuple[float, float, float]] = {}
    if rows is None or rows.empty:
        return out
    part = rows[(rows["slice"] == "all") & rows["metric"].isin(["leniency_shift", "bland_altman_lower",
                                                                  "bland_altman_upper"])]
    for judge in _unique(part["judge"]):
        sub = part[part["judge"] == judge].drop_duplicates("metric").set_index("metric")["estimate"]
        vals = [pd.to_numeric(sub.get(m), errors="coerce") for m in
                ("leniency_shift", "bland_altman_lower", "bland_altman_upper")]
        if all(v is not None and not _missing(v) and math.isfinite(float(v)) for v in vals):
            out[str(judge)] = (float(vals[0]), float(vals[1]), float(vals[2]))
    return out


def _count_label(name: Any) -> str:
    return str(name).replace("_", " ")


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool, int, float, np.generic))


def _probe_counts(counts: Any) -> dict[str, Any] | None:
    """The counts table: one row per judge, one column per count name (in order of first appearance).
    Only scalar counts are shown; nested ones (e.g. a K x K table) are in ``results.json``."""
    if not isinstance(counts, Mapping) or not counts:
        return None
    names: list[str] = []
    for per in counts.values():
        if isinstance(per, Mapping):
            names += [str(k) for k, v in per.items() if _scalar(v) and str(k) not in names]
    if not names:
        return None
    rows = []
    for judge, per in counts.items():
        per = {str(k): v for k, v in per.items() if _scalar(v)} if isinstance(per, Mapping) else {}
        rows.append((str(judge), [_count(per[n]) if n in per else "" for n in names]))
    return {"headers": [_count_label(n) for n in names], "rows": rows}


def _probe_columns(rows: pd.DataFrame, p_method: str) -> list[tuple[str, str]]:
    cols = [("judge", "Judge / rater"), ("metric", "Metric")]
    if len(rows) and (rows["reference"] != "").any():
        cols.append(("reference", "Compared with"))
    if len(rows) and (rows["level"] != "item").any():
        cols.append(("level", "Level"))
    if len(rows) and (rows["slice"] != "all").any():
        cols.append(("slice", "Slice"))
    return cols + [("estimate", "Estimate"), ("p_value", "p"), ("p_adjusted", f"p ({p_method}-adjusted)"),
                   ("n", "n"), ("note", "Note")]


def _probe_sections(analysis: Analysis, inline: Sequence[Mapping[str, Any]], p_method: str) -> list[dict[str, Any]]:
    out = []
    used_ids: set[str] = set()
    for key, entry in enumerate(_probe_entries(analysis)):
        res = entry.result
        anchor = "probe-" + (safe_filename(entry.probe) if entry.probe else "other")
        while anchor in used_ids:
            anchor += "-"
        used_ids.add(anchor)
        skipped = [str(x) for x in (getattr(res, "skipped", None) or []) if _str(x)]
        rows = entry.rows
        figs = [f for f in inline if f["kind"] == "probe" and f["key"] == key]
        out.append({
            "id": anchor,
            "probe": entry.probe,
            "title": probe_title(entry.probe),
            "description": _str(getattr(res, "description", "")),
            "table": {"rows": _long_rows(rows), "ci": format_confidence(rows["confidence_level"])},
            "columns": _probe_columns(rows, p_method),
            "counts": _probe_counts(getattr(res, "counts", None)),
            "skipped": skipped,
            "not_run": not len(rows) and bool(skipped) and not figs,
            "figures": figs,
        })
    return out


def _confusion_tables(analysis: Analysis) -> dict[str, dict[str, Any]]:
    out = {}
    for judge, counts in analysis.confusion.items():
        if counts is None or counts.empty:
            continue
        out[str(judge)] = {
            "columns": [str(c) for c in counts.columns],
            "rows": [(str(idx), [_count(v) for v in row]) for idx, row in
                     zip(counts.index, counts.to_numpy().tolist(), strict=True)],
        }
    return out


# ------------------------------------------------------------------------------ summary and leaderboard
#: Significance level of the summary's bias list and of the letter display (on Holm-adjusted p-values).
SIGNIFICANCE_ALPHA = 0.05
#: Probe metrics whose test is not a test of a bias: a small p-value there means the judge ranks the
#: systems like the humans (validity), so they never enter the summary's list of significant biases.
_NOT_BIAS_METRICS = frozenset({"system_rank_spearman", "system_rank_kendall"})
_TEXT_LIMIT = 200


def _finite(x: Any) -> float:
    if _missing(x):
        return math.nan
    try:
        f = float(x)
    except (TypeError, ValueError):
        return math.nan
    return f


def _floats(values: pd.Series) -> np.ndarray:
    """A column as a float array (NaN where missing or not a number), for boolean masks."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _pick(df: pd.DataFrame, **eq: Any) -> pd.DataFrame:
    mask = pd.Series(True, index=df.index)
    for k, v in eq.items():
        mask &= df[k] == v
    return df[mask]


def _item_level(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows at the item level when there are any, else at the first of dataset / group / system."""
    for lv in ("item", "dataset", "group", "system"):
        part = rows[rows["level"] == lv]
        if len(part):
            return part
    return rows


def _one(df: pd.DataFrame, **eq: Any) -> dict[str, Any] | None:
    part = _item_level(_pick(df, **eq))
    return part.iloc[0].to_dict() if len(part) else None


def _est_text(rec: Mapping[str, Any] | None, digits: int = 3) -> dict[str, str]:
    if rec is None:
        return {"text": "", "ci": "", "note": "", "cls": "absent"}
    return _cell(rec) if digits == 3 else {**_cell(rec), "text": _num(rec.get("estimate"), digits)}


def _judge_names(df: pd.DataFrame) -> list[str]:
    return _unique(df.loc[(df["section"] == "agreement") & (df["rater_kind"] != "human"), "judge"])


def compact_letter_display(names: Sequence[str], significant: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Letters for significance groups: two names share a letter if and only if their difference is not
    significant.

    The insert-and-absorb algorithm of Piepho (2004): start with one letter shared by every name; for each
    significant pair (i, j), every letter column that holds both is split into a copy without i and a copy
    without j; after each split, columns that are contained in another column (or repeat one) are absorbed.
    Columns are then lettered a, b, c, ... by the rank of their best member in ``names`` (which should be
    ordered best first), so the best name gets "a".

    Parameters
    ----------
    names : sequence of str
        The names, best first (e.g. judges sorted by their estimate).
    significant : iterable of (str, str)
        The pairs whose difference is significant; names not in ``names`` are ignored.

    Returns
    -------
    dict of str to str
        name -> its letters (e.g. ``"ab"``), in the order of ``names``.

    Examples
    --------
    >>> compact_letter_display(["A", "B", "C"], [("A", "B")])
    {'A': 'a', 'B': 'b', 'C': 'ab'}
    """
    names = _unique(str(n) for n in names)
    rank = {n: k for k, n in enumerate(names)}
    pairs = sorted({tuple(sorted((str(a), str(b)), key=rank.__getitem__)) for a, b in significant
                    if str(a) in rank and str(b) in rank and str(a) != str(b)},
                   key=lambda p: (rank[p[0]], rank[p[1]]))
    cols: list[frozenset[str]] = [frozenset(names)] if names else []
    for a, b in pairs:
        split: list[frozenset[str]] = []
        for c in cols:
            if a in c and b in c:
                split += [c - {b}, c - {a}]
            else:
                split.append(c)
        kept: list[frozenset[str]] = []
        for k, c in enumerate(split):  # absorb: drop empty, repeated and contained columns
            if not c or any(c < d for d in split) or any(c == d for d in split[:k]):
                continue
            kept.append(c)
        cols = kept
    cols.sort(key=lambda c: sorted(rank[n] for n in c))
    letters = [_letter(k) for k in range(len(cols))]
    return {n: "".join(letters[k] for k, c in enumerate(cols) if n in c) for n in names}


def _letter(k: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    return alphabet[k] if k < 26 else alphabet[k % 26] + str(k // 26)


def significance_letters(results: pd.DataFrame, metric: str, judges: Sequence[str] | None = None, *,
                         alpha: float = SIGNIFICANCE_ALPHA) -> dict[str, str] | None:
    """Compact letter display of the judges on ``metric`` from the paired comparisons.

    A pair of judges is significantly different when its comparison row (section ``comparison``, judge
    ``"<a> vs <b>"``, metric ``"<metric>_difference"``, slice "all") has a Holm-adjusted p-value below
    ``alpha``; a pair without such a row, or without an adjusted p-value, counts as not significantly
    different. ``judges`` (default: the judges of the agreement section, sorted by their estimate on
    ``metric``, best first) sets which judges get letters and in which order.

    Returns
    -------
    dict of str to str, or None
        judge -> letters; ``None`` when no comparison of ``metric`` was computed (fewer than two judges).
    """
    df = _tidy(results)
    if judges is None:
        rows = _item_level(df[(df["section"] == "agreement") & (df["metric"] == metric) & (df["slice"] == "all")])
        rows = rows.assign(_e=pd.to_numeric(rows["estimate"], errors="coerce").fillna(-np.inf))
        judges = _unique(rows.sort_values(["_e", "judge"], ascending=[False, True], kind="stable")["judge"])
    judges = [str(j) for j in judges]
    comp = df[(df["section"] == "comparison") & (df["metric"] == f"{metric}_difference") & (df["slice"] == "all")]
    if len(judges) < 2 or comp.empty:
        return None
    by_label = {str(r["judge"]): r for r in comp.to_dict("records")}
    significant = []
    found = False
    for i, a in enumerate(judges):
        for b in judges[i + 1:]:
            rec = by_label.get(f"{a} vs {b}") or by_label.get(f"{b} vs {a}")
            if rec is None:
                continue
            found = True
            p = _finite(rec.get("p_adjusted"))
            if math.isfinite(p) and p < alpha:
                significant.append((a, b))
    if not found:
        return None
    return compact_letter_display(judges, significant)


#: Metrics that are not chance-corrected: chosen for the summary only when no chance-corrected one is compared.
_UNCORRECTED = frozenset({"percent_agreement", "accuracy", "balanced_accuracy", "precision", "recall", "f1",
                          "tpr", "tnr", "mean_difference"})


def board_metric(analysis: Analysis) -> str | None:
    """The metric of the summary, the leaderboard and its significance groups.

    The headline metric (:func:`headline_metrics`) when the judges were compared on it (or when there is
    nothing to compare); otherwise the first agreement metric, in the headline priority order, on which the
    paired comparisons between judges were computed, chance-corrected ones first (e.g. Cohen's κ for
    pairwise and nominal tasks, whose comparisons are computed for κ while the forest plot shows
    Krippendorff's α), so that the ordering and the letters refer to the same metric.
    """
    headline = headline_metrics(analysis)
    if not headline:
        return None
    df = _tidy(analysis.results)
    compared = {m.removesuffix("_difference") for m in df.loc[df["section"] == "comparison", "metric"]
                if m.endswith("_difference")}
    judges = _judge_names(df)
    if headline[0] in compared or len(judges) < 2 or not compared:
        return headline[0]
    present = set(df.loc[(df["section"] == "agreement") & (df["slice"] == "all"), "metric"])
    order = _unique([*HEADLINE_METRICS, *_MAIN_PRIORITY, *sorted(present)])
    candidates = [m for m in order if m in compared and m in present]
    for m in candidates:
        if m not in _UNCORRECTED:
            return m
    return candidates[0] if candidates else headline[0]


def _ceiling_metric(df: pd.DataFrame, metric: str) -> str | None:
    """The metric on which judges are set against the human ceiling: ``metric`` when the ceiling section
    has it for the humans, else the first agreement metric that it has (e.g. Spearman for interval scales,
    whose ceiling is computed for correlations only)."""
    ceil = df[(df["section"] == "ceiling") & (df["slice"] == "all")]
    have = set(ceil.loc[ceil["judge"].str.startswith("human_ceiling"), "metric"])
    if metric in have:
        return metric
    for m in (*HEADLINE_METRICS, *_MAIN_PRIORITY):
        if m in have:
            return m
    return sorted(have)[0] if have else None


def _human_ceiling_row(df: pd.DataFrame, judge: str, metric: str) -> dict[str, Any] | None:
    ceil = df[(df["section"] == "ceiling") & (df["slice"] == "all")]
    return _one(ceil, judge=f"human_ceiling@{judge}", metric=metric) or _one(ceil, judge="human_ceiling",
                                                                              metric=metric)


def _best_baseline(df: pd.DataFrame, metric: str) -> dict[str, Any] | None:
    rows = _item_level(df[(df["section"] == "baseline") & (df["metric"] == metric) & (df["slice"] == "all")])
    if rows.empty:
        return None
    est = pd.to_numeric(rows["estimate"], errors="coerce")
    if not est.notna().any():
        return None
    rows = rows.assign(_e=est).dropna(subset=["_e"]).sort_values(["_e", "judge"], ascending=[False, True],
                                                                 kind="stable")
    return rows.iloc[0].to_dict()


def _signed(x: float, digits: int = 3) -> str:
    return ("+" if x > 0 else "") + _num(x, digits)


def _bias_lines(df: pd.DataFrame, judge: str, alpha: float) -> tuple[list[str], bool]:
    """The judge's probe estimates whose Holm-adjusted p-value is below ``alpha`` (one line per test: metrics
    that share a test are listed together), and whether any probe row with a p-value exists for it."""
    probe = df[(df["section"] == "probe") & (df["judge"] == judge)]
    tested = probe[np.isfinite(_floats(probe["p_adjusted"]))]
    sig = tested[_floats(tested["p_adjusted"]) < alpha]
    sig = sig[~sig["metric"].isin(list(_NOT_BIAS_METRICS))]
    humans = df[(df["section"] == "probe") & (df["rater_kind"] == "human") & (df["reference"] == judge)]
    lines: list[str] = []
    groups: dict[tuple[str, str, float], list[dict[str, Any]]] = {}
    for rec in sig.to_dict("records"):
        key = (rec["probe"], rec["slice"], _finite(rec.get("p_value")))
        groups.setdefault(key, []).append(rec)
    for (probe_name, slice_, _), recs in groups.items():
        parts = [f"{_metric_label(r['metric'])} {_num(r['estimate'])}" for r in recs]
        text = ", ".join(parts)
        if slice_ != "all":
            text += f" ({slice_})"
        text += f" [{probe_title(probe_name)} probe; Holm p = {_pvalue(recs[0].get('p_adjusted'))}]"
        shared = humans[(humans["metric"] == recs[0]["metric"]) & (humans["slice"] == slice_)
                        & (_floats(humans["p_adjusted"]) < alpha)]
        if len(shared):
            text += (f"; the humans show it too on the same items ({_num(shared.iloc[0]['estimate'])}, also "
                     "significant): read the judge-minus-human rows of this probe")
        lines.append(text)
    return lines, bool(len(tested))


def _position(judge_rec: Mapping[str, Any] | None, human_rec: Mapping[str, Any] | None) -> dict[str, str]:
    """Where the judge's leave-one-out estimate sits against the human ceiling's interval."""
    je = _finite(judge_rec.get("estimate")) if judge_rec else math.nan
    he = _finite(human_rec.get("estimate")) if human_rec else math.nan
    lo = _finite(human_rec.get("ci_low")) if human_rec else math.nan
    hi = _finite(human_rec.get("ci_high")) if human_rec else math.nan
    if not (math.isfinite(je) and math.isfinite(he)):
        return {"mark": "?", "cls": "unknown", "text": "not comparable (undefined)"}
    if math.isfinite(lo) and math.isfinite(hi):
        if je < lo:
            return {"mark": "▼", "cls": "below", "text": "below the human ceiling's interval"}
        if je > hi:
            return {"mark": "▲", "cls": "above", "text": "above the human ceiling's interval"}
        return {"mark": "●", "cls": "at", "text": "inside the human ceiling's interval"}
    return ({"mark": "▼", "cls": "below", "text": "below the human ceiling"} if je < he else
            {"mark": "●", "cls": "at", "text": "at or above the human ceiling (no interval)"})


def _versus_baseline(rec: Mapping[str, Any] | None, base: Mapping[str, Any] | None) -> dict[str, str]:
    je, jlo = (_finite(rec.get("estimate")), _finite(rec.get("ci_low"))) if rec else (math.nan, math.nan)
    be, bhi = (_finite(base.get("estimate")), _finite(base.get("ci_high"))) if base else (math.nan, math.nan)
    if not (math.isfinite(je) and math.isfinite(be)):
        return {"mark": "?", "cls": "unknown", "text": "not comparable (undefined)"}
    if math.isfinite(jlo) and math.isfinite(bhi):
        if jlo > bhi:
            return {"mark": "▲", "cls": "above", "text": "clearly above it (the intervals do not overlap)"}
        return {"mark": "⚠", "cls": "warn", "text": "not clearly above it (the intervals overlap)"}
    return ({"mark": "▲", "cls": "above", "text": "above it (no interval)"} if je > be else
            {"mark": "⚠", "cls": "warn", "text": "not above it"})


def _summary(analysis: Analysis, df: pd.DataFrame, headline: Sequence[str]) -> dict[str, Any] | None:
    """Three lines per judge: the headline estimate, its place between the null baselines and the human
    ceiling, and the biases significant after Holm."""
    if not headline:
        return None
    metric = headline[0]
    judges = _judge_names(df)
    if not judges:
        return None
    agree = df[(df["section"] == "agreement") & (df["slice"] == "all")]
    cmetric = _ceiling_metric(df, metric)
    ceil = df[(df["section"] == "ceiling") & (df["slice"] == "all")]
    base = _best_baseline(df, metric)
    alpha = SIGNIFICANCE_ALPHA
    probes_ran = bool((df["section"] == "probe").any())
    out = []
    for j in judges:
        rec = _one(agree, judge=j, metric=metric)
        if rec is None:
            continue
        cell = _cell(rec)
        line1 = {"metric": display_name(metric), "cell": cell, "n": _count(rec.get("n")),
                 "reference": _str(rec.get("reference"))}
        jc = _one(ceil[ceil["rater_kind"] != "human"], judge=j, metric=cmetric) if cmetric else None
        hc = _human_ceiling_row(df, j, cmetric) if cmetric else None
        ceiling = None
        if jc is not None and hc is not None:
            diff = _finite(jc.get("estimate")) - _finite(hc.get("estimate"))
            ceiling = {"metric": display_name(cmetric or metric), "same_metric": cmetric == metric,
                       "judge": _cell(jc), "human": _cell(hc),
                       "human_label": ("humans on the items it rated"
                                       if _str(hc.get("judge")).startswith("human_ceiling@") else "humans"),
                       "diff": _signed(diff) if math.isfinite(diff) else _DASH, "pos": _position(jc, hc)}
        baseline = None
        if base is not None:
            baseline = {"name": _str(base.get("judge")), "cell": _cell(base), "pos": _versus_baseline(rec, base)}
        biases, tested = _bias_lines(df, j, alpha)
        out.append({"judge": j, "line1": line1, "ceiling": ceiling, "baseline": baseline, "biases": biases,
                    "tested": tested, "probes_ran": probes_ran})
    if not out:
        return None
    corrected = metric not in _UNCORRECTED and metric not in ("pearson", "spearman", "kendall_tau", "kendall_tau_c")
    return {"metric": display_name(metric), "ceiling_metric": display_name(cmetric) if cmetric else "",
            "alpha": f"{alpha:g}", "judges": out, "kind": "chance-corrected agreement" if corrected else "agreement"}


def _leaderboard(analysis: Analysis, df: pd.DataFrame, headline: Sequence[str]) -> dict[str, Any] | None:
    if not headline:
        return None
    metric = headline[0]
    agree = df[(df["section"] == "agreement") & (df["slice"] == "all") & (df["metric"] == metric)]
    agree = _item_level(agree[agree["rater_kind"] != "human"])
    if agree.empty:
        return None
    agree = agree.assign(_e=pd.to_numeric(agree["estimate"], errors="coerce").fillna(-np.inf))
    agree = agree.sort_values(["_e", "judge"], ascending=[False, True], kind="stable").drop_duplicates("judge")
    judges = list(agree["judge"])
    letters = significance_letters(analysis.results, metric, judges)
    cmetric = _ceiling_metric(df, metric)
    ceil = df[(df["section"] == "ceiling") & (df["slice"] == "all")]
    rows = []
    for k, rec in enumerate(agree.to_dict("records")):
        jc = _one(ceil[ceil["rater_kind"] != "human"], judge=rec["judge"], metric=cmetric) if cmetric else None
        rows.append({"rank": str(k + 1), "name": rec["judge"], "kind": "judge", "tag": "judge",
                     "letters": (letters or {}).get(rec["judge"], ""), "main": _cell(rec),
                     "loao": _est_text(jc), "n": _count(rec.get("n")), "reference": _str(rec.get("reference"))})
    if cmetric:
        hum = _item_level(ceil[ceil["judge"].str.startswith("human_ceiling") & (ceil["metric"] == cmetric)])
        for rec in hum.to_dict("records"):
            rows.append({"rank": "", "name": rec["judge"], "kind": "ceiling", "tag": "human", "letters": "",
                         "main": {"text": "", "ci": "", "note": "", "cls": "absent"}, "loao": _cell(rec),
                         "n": _count(rec.get("n")), "reference": _str(rec.get("reference"))})
    base = _item_level(df[(df["section"] == "baseline") & (df["slice"] == "all") & (df["metric"] == metric)])
    base = base.assign(_e=pd.to_numeric(base["estimate"], errors="coerce").fillna(-np.inf))
    for rec in base.sort_values(["_e", "judge"], ascending=[False, True], kind="stable").to_dict("records"):
        rows.append({"rank": "", "name": rec["judge"], "kind": "baseline", "tag": "baseline", "letters": "",
                     "main": _cell(rec), "loao": {"text": "", "ci": "", "note": "", "cls": "absent"},
                     "n": _count(rec.get("n")), "reference": _str(rec.get("reference"))})
    comp = df[(df["section"] == "comparison") & (df["metric"] == f"{metric}_difference")]
    methods = sorted({_str(m) for m in comp["method"] if _str(m)})
    prov = analysis.provenance if isinstance(analysis.provenance, Mapping) else {}
    boot = analysis.config.get("bootstrap") if isinstance(analysis.config, Mapping) else None
    n_res = prov.get("n_resamples", boot.get("n_resamples") if isinstance(boot, Mapping) else None)
    return {"metric": display_name(metric), "ceiling_metric": display_name(cmetric) if cmetric else "",
            "same_metric": cmetric == metric, "rows": rows, "letters": letters is not None,
            "comparison_method": ", ".join(methods) or "paired comparison", "alpha": f"{SIGNIFICANCE_ALPHA:g}",
            "ci": format_confidence(agree["confidence_level"]), "n_judges": len(judges),
            "floor": _bootstrap_floor(df, n_res) if letters is not None else ""}


# ------------------------------------------------------------------------------------- disagreements
def _long_text(value: Any, limit: int = _TEXT_LIMIT) -> dict[str, Any]:
    text = _str(value)
    short, cut = _truncate(text, limit)
    return {"text": text, "short": short, "cut": cut, "length": f"{len(text):,}"}


def _disagreements(analysis: Analysis) -> dict[str, Any] | None:
    extra = analysis.extra if isinstance(analysis.extra, Mapping) else {}
    if "disagreements" not in extra:
        return None
    frame = extra.get("disagreements")
    if isinstance(frame, list) and all(isinstance(r, Mapping) for r in frame):  # records, e.g. from JSON
        frame = pd.DataFrame.from_records(frame)
    if not isinstance(frame, pd.DataFrame):
        return {"error": "the disagreements table is not a DataFrame", "groups": [], "columns": [], "unit": "",
                "has_raw": False, "limit": _TEXT_LIMIT, "has_humans": False, "pairwise": False}
    error = _str(frame.attrs.get("error")) if isinstance(frame.attrs, Mapping) else ""
    from ..disagreements import disagreement_distance_unit

    scale = analysis.scale
    levels = getattr(scale, "levels", None)
    unit = disagreement_distance_unit(getattr(scale, "kind", ""), len(levels) if levels else 0)
    text_cols = [c for c in ("raw", "text_a", "text_b") if c in frame.columns
                 and frame[c].map(lambda v: bool(_str(v))).any()]
    groups = []
    for judge in _unique(frame["judge"].map(_str)) if "judge" in frame.columns else []:
        part = frame[frame["judge"].map(_str) == judge]
        rows = []
        for rec in part.to_dict("records"):
            rows.append({"item_id": _str(rec.get("item_id")), "reference": _str(rec.get("reference_label")),
                         "humans": _str(rec.get("human_labels")), "judge_label": _str(rec.get("judge_label")),
                         "distance": _num(rec.get("distance"), 2), "n_rows": _count(rec.get("n_rows")),
                         "texts": [_long_text(rec.get(c)) for c in text_cols]})
        groups.append({"judge": judge, "rows": rows})
    headers = {"raw": "Judge output (raw)", "text_a": "Text A", "text_b": "Text B"}
    return {"error": error, "groups": groups, "columns": [headers[c] for c in text_cols], "unit": unit,
            "has_raw": "raw" in text_cols, "limit": _TEXT_LIMIT, "has_humans": "human_labels" in frame.columns,
            "pairwise": getattr(scale, "kind", "") == "pairwise"}


# ------------------------------------------------------------------------------------------- methods
#: Literature cited by the methods section (key -> reference).
REFERENCES: dict[str, str] = {
    "bland1986": "Bland, J. M., & Altman, D. G. (1986). Statistical methods for assessing agreement between two "
                 "methods of clinical measurement. The Lancet, 327(8476), 307–310.",
    "byrt1993": "Byrt, T., Bishop, J., & Carlin, J. B. (1993). Bias, prevalence and kappa. Journal of Clinical "
                "Epidemiology, 46(5), 423–429.",
    "cohen1960": "Cohen, J. (1960). A coefficient of agreement for nominal scales. Educational and Psychological "
                 "Measurement, 20(1), 37–46.",
    "cohen1968": "Cohen, J. (1968). Weighted kappa: nominal scale agreement with provision for scaled disagreement "
                 "or partial credit. Psychological Bulletin, 70(4), 213–220.",
    "dubois2024": "Dubois, Y., et al. (2024). Length-controlled AlpacaEval: a simple way to debias automatic "
                  "evaluators. arXiv:2404.04475.",
    "efron1993": "Efron, B., & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.",
    "field2007": "Field, C. A., & Welsh, A. H. (2007). Bootstrapping clustered data. Journal of the Royal "
                 "Statistical Society B, 69(3), 369–390.",
    "fleiss1971": "Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters. Psychological "
                  "Bulletin, 76(5), 378–382.",
    "gwet2008": "Gwet, K. L. (2008). Computing inter-rater reliability and its variance in the presence of high "
                "agreement. British Journal of Mathematical and Statistical Psychology, 61(1), 29–48.",
    "holm1979": "Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian Journal "
                "of Statistics, 6(2), 65–70.",
    "kendall1945": "Kendall, M. G. (1945). The treatment of ties in ranking problems. Biometrika, 33(3), 239–251.",
    "krippendorff2011": "Krippendorff, K. (2011). Computing Krippendorff's alpha-reliability. Departmental "
                        "Papers (ASC), University of Pennsylvania.",
    "matthews1975": "Matthews, B. W. (1975). Comparison of the predicted and observed secondary structure of T4 "
                    "phage lysozyme. Biochimica et Biophysica Acta, 405(2), 442–451.",
    "maxwell1970": "Maxwell, A. E. (1970). Comparing the classification of subjects by two independent judges. "
                   "British Journal of Psychiatry, 116(535), 651–655.",
    "mcnemar1947": "McNemar, Q. (1947). Note on the sampling error of the difference between correlated "
                   "proportions or percentages. Psychometrika, 12(2), 153–157.",
    "piepho2004": "Piepho, H.-P. (2004). An algorithm for a letter-based representation of all-pairwise "
                  "comparisons. Journal of Computational and Graphical Statistics, 13(2), 456–466.",
    "scott1955": "Scott, W. A. (1955). Reliability of content analysis: the case of nominal scale coding. Public "
                 "Opinion Quarterly, 19(3), 321–325.",
    "shi2024": "Shi, L., et al. (2024). Judging the judges: a systematic investigation of position bias in "
               "pairwise comparative assessments by LLMs. arXiv:2406.07791.",
    "spearman1904": "Spearman, C. (1904). The proof and measurement of association between two things. American "
                    "Journal of Psychology, 15(1), 72–101.",
    "stuart1953": "Stuart, A. (1953). The estimation and comparison of strengths of association in contingency "
                  "tables. Biometrika, 40(1/2), 105–110.",
    "stuart1955": "Stuart, A. (1955). A test for homogeneity of the marginal distributions in a two-way "
                  "classification. Biometrika, 42(3/4), 412–416.",
    "tan2024": "Tan, S., et al. (2024). JudgeBench: a benchmark for evaluating LLM-based judges. "
               "arXiv:2410.12784.",
    "thakur2024": "Thakur, A. S., et al. (2024). Judging the judges: evaluating alignment and vulnerabilities in "
                  "LLMs-as-judges. arXiv:2406.12624.",
    "wataoka2024": "Wataoka, K., et al. (2024). Self-preference bias in LLM-as-a-judge. arXiv:2410.21819.",
    "wilson1927": "Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. "
                  "Journal of the American Statistical Association, 22(158), 209–212.",
    "youden1950": "Youden, W. J. (1950). Index for rating diagnostic tests. Cancer, 3(1), 32–35.",
}
#: Short citation of each reference, as used in the text.
_CITE: dict[str, str] = {
    "bland1986": "Bland & Altman 1986", "byrt1993": "Byrt et al. 1993", "cohen1960": "Cohen 1960",
    "cohen1968": "Cohen 1968", "dubois2024": "Dubois et al. 2024", "efron1993": "Efron & Tibshirani 1993",
    "field2007": "Field & Welsh 2007", "fleiss1971": "Fleiss 1971", "gwet2008": "Gwet 2008",
    "holm1979": "Holm 1979", "kendall1945": "Kendall 1945", "krippendorff2011": "Krippendorff 2011",
    "matthews1975": "Matthews 1975", "maxwell1970": "Maxwell 1970", "mcnemar1947": "McNemar 1947",
    "piepho2004": "Piepho 2004", "scott1955": "Scott 1955", "shi2024": "Shi et al. 2024",
    "spearman1904": "Spearman 1904", "stuart1953": "Stuart 1953", "stuart1955": "Stuart 1955",
    "tan2024": "Tan et al. 2024", "thakur2024": "Thakur et al. 2024", "wataoka2024": "Wataoka et al. 2024",
    "wilson1927": "Wilson 1927", "youden1950": "Youden 1950",
}

#: One-line definition and reference keys of each metric (base names; "_difference" and "_peer_adjusted"
#: variants are described by their base metric).
METRIC_DEFINITIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "percent_agreement": ("share of items on which the candidate's label equals the reference, p_o = Σ_k o_kk", ()),
    "cohen_kappa": ("(p_o − p_e)/(1 − p_e) with chance agreement p_e = Σ_k r_k c_k from the two marginals",
                    ("cohen1960",)),
    "cohen_kappa_linear": ("weighted κ with disagreement weights |i − j|/(K − 1) on the declared order",
                           ("cohen1968",)),
    "cohen_kappa_quadratic": ("weighted κ with disagreement weights ((i − j)/(K − 1))² on the declared order",
                              ("cohen1968",)),
    "scott_pi": ("as κ with pooled marginals, p_e = Σ_k ((r_k + c_k)/2)²", ("scott1955", "thakur2024")),
    "gwet_ac1": ("p_e = Σ_k π_k(1 − π_k)/(K − 1) with π_k = (r_k + c_k)/2; stable when one level dominates "
                 "(the kappa paradox)", ("gwet2008",)),
    "gwet_ac2_linear": ("Gwet's weighted AC2 with linear weights", ("gwet2008",)),
    "gwet_ac2_quadratic": ("Gwet's weighted AC2 with quadratic weights", ("gwet2008",)),
    "pabak": ("prevalence- and bias-adjusted κ, (K·p_o − 1)/(K − 1)", ("byrt1993",)),
    "fleiss_kappa": ("κ for several raters per item (the annotators among themselves)", ("fleiss1971",)),
    "krippendorff_alpha_nominal": ("1 − D_o/D_e from the coincidence matrix, nominal differences; missing "
                                   "values allowed", ("krippendorff2011",)),
    "krippendorff_alpha_ordinal": ("1 − D_o/D_e from the coincidence matrix, ordinal (rank-based) differences "
                                   "on the declared order", ("krippendorff2011",)),
    "krippendorff_alpha_interval": ("1 − D_o/D_e from the coincidence matrix, squared differences",
                                    ("krippendorff2011",)),
    "krippendorff_alpha_ratio": ("1 − D_o/D_e from the coincidence matrix, ratio differences",
                                 ("krippendorff2011",)),
    "accuracy": ("share of items on which the candidate matches the reference", ()),
    "balanced_accuracy": ("mean of TPR and TNR", ()),
    "precision": ("share of the candidate's positive labels that the reference also calls positive", ()),
    "recall": ("share of the reference's positives that the candidate calls positive (= TPR)", ()),
    "f1": ("harmonic mean of precision and recall", ()),
    "mcc": ("Matthews correlation coefficient of the 2×2 table", ("matthews1975",)),
    "tpr": ("true-positive rate", ()),
    "tnr": ("true-negative rate", ()),
    "youden_j": ("TPR + TNR − 1", ("youden1950",)),
    "pearson": ("Pearson's linear correlation of the reference and the judge's item mean", ()),
    "spearman": ("Pearson's correlation of the midranks", ("spearman1904",)),
    "kendall_tau": ("Kendall's τ-b, with the tie correction on both sides", ("kendall1945",)),
    "kendall_tau_c": ("Stuart–Kendall τ-c, for tables that are not square", ("stuart1953",)),
    "mean_difference": ("mean of candidate − reference", ()),
    "accuracy_difference": ("difference in item-level accuracy (modal verdict per item) between two judges, "
                            "tested with the exact McNemar test", ("mcnemar1947",)),
    "position_consistency": ("share of pairs judged in both orders whose two verdicts agree once mapped back",
                             ("shi2024",)),
    "preference_fairness": ("(#recency·irr − #primacy·ipr)/n in [−1, 1]; < 0 favours the first slot, > 0 the "
                            "second", ("shi2024",)),
    "first_position_rate": ("share of decisive verdicts that pick the response shown first, tested at the pair "
                            "level", ("shi2024",)),
    "first_position_excess": ("judge first-position rate minus the human rate on the same items", ()),
    "flip_rate": ("share of pairs whose verdict changes with the presentation order", ("shi2024",)),
    "both_order_accuracy": ("a pair is right when its two votes net in favour of the reference; inconsistent "
                            "pairs are wrong", ("tan2024",)),
    "repetition_stability": ("mean share of the modal verdict over repeated runs of one comparison",
                             ("shi2024",)),
    "prefer_longer_rate": ("share of decisive verdicts that pick the longer response (tested against 0.5); the "
                           "same rate is given for the humans on the same items", ()),
    "prefer_longer_excess": ("judge prefer-longer rate minus the human rate on the same items (paired)", ()),
    "length_coef": ("slope on Δ log length in a logistic (pairwise) or linear (pointwise) regression with the "
                    "human label as a covariate, item-clustered errors", ()),
    "length_odds_ratio": ("exp(length coefficient): odds ratio per e-fold length ratio", ()),
    "length_controlled_win_rate": ("the regression's win rate of response A with the length term set to zero",
                                   ("dubois2024",)),
    "win_rate_a": ("the judge's raw rate of preferring response A on the fitted rows", ()),
    "self_preference_eo": ("equal-opportunity bias: P(judge prefers own | humans prefer own) − P(judge prefers "
                           "other | humans prefer other)", ("wataoka2024",)),
    "self_preference_inflation": ("judge win rate of its own family's responses minus the human win rate of the "
                                  "same responses", ()),
    "self_preference_did": ("difference in differences of judge − human scores, own family against others", ()),
    "self_rank_difference": ("rank of the judge's own family by the judge minus its rank by the humans", ()),
    "leniency_shift": ("mean of judge − human score (signed)", ()),
    "leniency_p_plus": ("P₊ = FPR/(FPR + FNR): how often a guessing judge says 'correct'; > 0.5 is lenient",
                        ("thakur2024",)),
    "p_c": ("P_c = TPR + TNR − 1: probability of a correct judgement in the guessing model", ("thakur2024",)),
    "fpr": ("judge says correct where the humans say incorrect", ("thakur2024",)),
    "fnr": ("judge says incorrect where the humans say correct", ("thakur2024",)),
    "bland_altman_lower": ("mean difference − 1.96 SD of the differences", ("bland1986",)),
    "bland_altman_upper": ("mean difference + 1.96 SD of the differences", ("bland1986",)),
    "stuart_maxwell": ("test of marginal homogeneity of the judge × human table", ("stuart1955", "maxwell1970")),
    "tie_rate": ("share of tie verdicts", ()),
    "tie_rate_difference": ("judge tie rate minus the human tie rate on the same items", ()),
    "system_rank_spearman": ("Spearman's ρ between the judge's and the humans' ranking of the systems",
                             ("thakur2024",)),
    "system_rank_kendall": ("Kendall's τ between the judge's and the humans' ranking of the systems",
                            ("thakur2024",)),
    "system_deviation": ("|judge − human| mean score of each system", ()),
}

#: What each value of the ``method`` column means (matched on the text before any " (").
CI_METHODS: dict[str, tuple[str, tuple[str, ...]]] = {
    "bootstrap-cluster": ("percentile interval of the item-clustered bootstrap: all rows of an item (both "
                          "orders, every repeat, every rater) are resampled together; replicates where the metric "
                          "is undefined are left out and counted in the note", ("efron1993", "field2007")),
    "bootstrap-multinomial": ("percentile interval from multinomial resamples of the K × K table (with one row "
                              "per item the same distribution as resampling items)", ("efron1993",)),
    "bootstrap": ("percentile bootstrap over items", ("efron1993",)),
    "bootstrap-groups": ("percentile bootstrap over groups", ("efron1993",)),
    "wilson": ("Wilson score interval for a proportion (used when every item has one row)", ("wilson1927",)),
    "paired-bootstrap": ("paired bootstrap of a difference between two judges: the same resampled items for "
                         "both; two-sided p = 2·min(P*(Δ ≤ 0), P*(Δ ≥ 0)), at least 1/(B + 1)", ("efron1993",)),
    "mcnemar-exact": ("exact McNemar test on the discordant items (no interval)", ("mcnemar1947",)),
    "stuart-maxwell": ("Stuart–Maxwell χ² test of marginal homogeneity", ("stuart1955", "maxwell1970")),
    "stuart_maxwell": ("Stuart–Maxwell χ² test of marginal homogeneity", ("stuart1955", "maxwell1970")),
    "cluster-robust-wald": ("Wald interval and test with item-clustered (cluster-robust) standard errors", ()),
    "hc1-wald": ("Wald interval and test with HC1 heteroskedasticity-robust standard errors", ()),
    "fisher-z": ("interval from Fisher's z transform of the correlation", ()),
    "none": ("no interval (the estimate is undefined, there are no resamples, or none applies)", ()),
}
_AGGREGATES = {
    "majority": "the most frequent human label of each item (an item whose top labels tie has no reference "
                "and is counted as reference_undefined)",
    "median": "the median of the human labels on the declared order (an even split takes the lower level)",
    "mean": "the mean of the human scores",
}


def _base_metric(metric: str) -> str:
    if metric in METRIC_DEFINITIONS:
        return metric
    for suffix in ("_peer_adjusted", "_difference"):
        if metric.endswith(suffix) and metric.removesuffix(suffix) in METRIC_DEFINITIONS:
            return metric.removesuffix(suffix)
    return metric


def _cite(keys: Iterable[str]) -> str:
    return "; ".join(_CITE[k] for k in keys if k in _CITE)


def _bootstrap_floor(df: pd.DataFrame, n_resamples: Any) -> str:
    """A warning when the paired-bootstrap p-values cannot reach significance after Holm: with B resamples the
    smallest bootstrap p-value is 1/(B + 1), and Holm multiplies the smallest of m p-values by m."""
    b = _finite(n_resamples)
    comp = df[(df["section"] == "comparison") & np.isfinite(_floats(df["p_value"]))]
    boot = comp[comp["method"].str.startswith("paired-bootstrap")]
    if not (math.isfinite(b) and b > 0) or boot.empty:
        return ""
    floor, m = 1.0 / (b + 1.0), len(comp)
    m_boot = len(boot)  # Holm multiplies the smallest bootstrap p-value by at least m − (other tests) = this
    if floor * m_boot < SIGNIFICANCE_ALPHA:
        return ""
    return (f"With {int(b):,} bootstrap resamples the smallest paired-bootstrap p-value is 1/({int(b):,} + 1) = "
            f"{_pvalue(floor)}, and Holm over the {m} comparisons multiplies it by at least {m_boot}, so no "
            f"bootstrap comparison can be significant at {SIGNIFICANCE_ALPHA:g} after adjustment. Run with more "
            "resamples (n_resamples) to separate the judges.")


def _methods(analysis: Analysis, df: pd.DataFrame, board: Sequence[str], headline: Sequence[str]) -> dict[str, Any]:
    prov = analysis.provenance if isinstance(analysis.provenance, Mapping) else {}
    config = analysis.config if isinstance(analysis.config, Mapping) else {}
    boot = config.get("bootstrap") if isinstance(config.get("bootstrap"), Mapping) else {}
    cited: list[str] = []

    def refs(keys: Iterable[str]) -> str:
        keys = list(keys)
        cited.extend(k for k in keys if k in REFERENCES)
        return _cite(keys)

    groups = []
    for title, sections in (("Agreement, human ceiling and baselines", ("agreement", "ceiling", "baseline")),
                            ("Comparisons between judges", ("comparison",)), ("Bias probes", ("probe",))):
        metrics = df.loc[df["section"].isin(list(sections)), "metric"]
        items = []
        if sections == ("comparison",):
            for m in _unique(metrics):
                if m in METRIC_DEFINITIONS:
                    definition, keys = METRIC_DEFINITIONS[m]
                else:
                    base = _base_metric(m)
                    definition = (f"{display_name(base)} of the first judge minus that of the second, on the items "
                                  "both rated, with the same bootstrap resamples for both")
                    keys = METRIC_DEFINITIONS.get(base, ("", ()))[1]
                items.append({"name": _metric_label(m), "key": m, "definition": definition, "refs": refs(keys)})
        else:
            for m in _unique(_base_metric(m) for m in metrics):
                definition, keys = METRIC_DEFINITIONS.get(m, ("", ()))
                items.append({"name": _metric_label(m), "key": m, "definition": definition, "refs": refs(keys)})
        if items:
            groups.append({"title": title, "metrics": items})
    # reference aggregate
    agg_refs = _unique(r for r in df.loc[df["section"] == "agreement", "reference"] if r)
    aggregate = ""
    for r in agg_refs:
        head = r.split("(")[0].strip()
        if head in _AGGREGATES and "(humans" in r:
            aggregate = head
            break
    gold = config.get("gold") if isinstance(config.get("gold"), Mapping) else {}
    # interval methods actually used
    used = _unique(_str(m) for m in df["method"] if _str(m))
    methods = []
    for m in used:
        key = m.split(" (")[0].strip()
        desc, keys = CI_METHODS.get(key, ("see the note of the rows that use it", ()))
        count = int((df["method"] == m).sum())
        methods.append({"name": m, "description": desc, "refs": refs(keys), "rows": f"{count:,}"})
    levels = format_confidence(df["confidence_level"]) if len(df) else format_confidence([])
    n_res = prov.get("n_resamples", boot.get("n_resamples"))
    seed = prov.get("seed", boot.get("seed"))
    # multiple comparisons: one Holm family per section with p-values
    p_method = _str(analysis.extra.get("p_adjust_method")) if isinstance(analysis.extra, Mapping) else ""
    families = []
    tested = np.isfinite(_floats(df["p_value"]))
    for section in _unique(df.loc[tested, "section"]):
        part = df[(df["section"] == section).to_numpy() & tested]
        what = {"comparison": "every paired comparison (judge pairs × metrics)",
                "probe": "every probe test (probes × judges × metrics)"}.get(section, f"the {section} rows")
        families.append({"section": section, "tests": f"{len(part):,}", "what": what})
    refs(["holm1979"] if families and (p_method or "Holm").lower() == "holm" else [])
    floor = _bootstrap_floor(df, n_res)
    # conventions
    probes_cfg = config.get("probes") if isinstance(config.get("probes"), Mapping) else {}
    pos = probes_cfg.get("position") if isinstance(probes_cfg.get("position"), Mapping) else {}
    position_ran = bool((df["probe"] == "position").any()) or any(
        _str(getattr(p, "probe", "")) == "position" for p in (getattr(analysis, "probes", None) or []))
    conventions = []
    explain = {
        ("missing_mirror", "exclude"): "a run whose mirror (the other presentation order) is missing is counted "
                                       "and left out of the consistency classification",
        ("missing_mirror", "consistent"): "a run whose mirror is missing counts as a consistent pair (the "
                                          "convention of the released files of Shi et al. 2024)",
        ("both_unparseable", "exclude"): "a pair with two unusable verdicts is counted and left out",
        ("both_unparseable", "agree"): "a pair with two unusable verdicts counts as consistent (JudgeBench's "
                                       "convention)",
    }
    for key in ("missing_mirror", "both_unparseable"):
        if key in pos:
            val = _str(pos[key])
            conventions.append({"name": f"probes.position.{key}", "value": val,
                                "meaning": explain.get((key, val), "")})
    unparseable = []
    for j in config.get("judges") or []:
        if not isinstance(j, Mapping):
            continue
        policy = j.get("unparseable", "exclude")
        if isinstance(policy, Mapping):
            text = f"scored as {policy.get('fallback')!r} (fallback)" if "fallback" in policy else json.dumps(policy)
        else:
            text = "excluded (counted in the coverage table)" if _str(policy) in ("", "exclude") else _str(policy)
        unparseable.append((_str(j.get("name")), text, _str(j.get("extract")) or _DASH))
    headline_name = display_name(board[0]) if board else ""
    forest_names = [display_name(m) for m in headline]
    refs(["piepho2004"] if (df["section"] == "comparison").any() else [])
    return {
        "groups": groups,
        "aggregate": aggregate, "aggregate_text": _AGGREGATES.get(aggregate, ""),
        "aggregate_config": _str(gold.get("aggregate")) or "default for the scale",
        "references_seen": agg_refs[:4],
        "methods": methods, "levels": levels,
        "n_resamples": _str(n_res) or _DASH, "seed": _str(seed) or _DASH,
        "families": families, "p_method": p_method or "Holm", "alpha": f"{SIGNIFICANCE_ALPHA:g}", "floor": floor,
        "conventions": conventions, "position_ran": position_ran,
        "unparseable": unparseable, "headline": headline_name, "forest": forest_names,
        "references": [REFERENCES[k] for k in sorted(set(cited))],
    }


# ------------------------------------------------------------------------------------------ rendering
@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("metajudge", "report/templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=True)


def _context(analysis: Analysis, figures: Sequence[_Figure]) -> dict[str, Any]:
    from ..plots import figure_to_svg

    df = _tidy(analysis.results)
    headline = headline_metrics(analysis)
    board = [m for m in [board_metric(analysis)] if m]
    main_rows = df[(df["slice"] == "all") & (df["level"] == "item") & df["section"].isin(list(_SECTIONS))]
    metrics = _main_metrics(analysis, main_rows, headline)
    slice_rows = df[(df["slice"] != "all") & df["section"].isin(list(_SECTIONS))]
    slice_metrics = _main_metrics(analysis, slice_rows, headline) if len(slice_rows) else []
    comparisons = df[df["section"] == "comparison"]
    levels = df[~df["level"].isin(["item"]) & df["section"].isin(list(_SECTIONS))]
    inline = []
    for k, f in enumerate(figures):
        svg = figure_to_svg(f.figure, title=f.alt, id_prefix=f"fig{k + 1}-")
        inline.append({"name": f.name, "kind": f.kind, "subject": f.subject, "alt": f.alt, "key": f.key,
                       "svg": Markup(svg)})  # noqa: S704 - Matplotlib escapes text; the title is escaped
    p_method = _str(analysis.extra.get("p_adjust_method")) if isinstance(analysis.extra, Mapping) else ""
    return {
        "summary": _summary(analysis, df, board),
        "leaderboard": _leaderboard(analysis, df, board),
        "leaderboard_fig": [f for f in inline if f["kind"] == "leaderboard"],
        "disagreements": _disagreements(analysis),
        "methods": _methods(analysis, df, board, headline),
        "title": str(analysis.title),
        "scale": _scale_summary(analysis),
        "prov": _provenance(analysis),
        "coverage": _coverage(analysis),
        "problems": _problems(analysis),
        "main": {"headers": _metric_headers(main_rows, metrics), "groups": _wide_groups(main_rows, metrics),
                 "omitted": [display_name(m) for m in _unique(main_rows["metric"]) if m not in metrics]},
        "slices": ({"headers": _metric_headers(slice_rows, slice_metrics),
                    "groups": _wide_groups(slice_rows, slice_metrics, group_by="slice")} if len(slice_rows) else None),
        "comparisons": {"rows": _long_rows(comparisons), "ci": format_confidence(comparisons["confidence_level"]),
                        "has_slices": bool((comparisons["slice"] != "all").any()),
                        "p_method": p_method or "Holm"},
        "levels": {"rows": _long_rows(levels), "ci": format_confidence(levels["confidence_level"])},
        "all_rows": {"rows": _long_rows(df), "ci": format_confidence(df["confidence_level"])},
        "headline": [display_name(m) for m in headline],
        "forest": [f for f in inline if f["kind"] == "forest"],
        "confusion": [f for f in inline if f["kind"] == "confusion"],
        "confusion_tables": _confusion_tables(analysis),
        "probes": _probe_sections(analysis, inline, p_method or "Holm"),
        "probe_p_method": p_method or "Holm",
        "notes": [str(n) for n in analysis.notes],
        # compact in the page (the indented copy is results.json): halves the size of large reports
        "results_json": _json_for_html(json.dumps(analysis_to_dict(analysis), ensure_ascii=False,
                                                  allow_nan=False, separators=(",", ":"))),
    }


def _render(analysis: Analysis, figures: Sequence[_Figure]) -> str:
    template = _environment().get_template("report.html.j2")
    return template.render(**_context(analysis, figures))


def render_html(analysis: Analysis) -> str:
    """The report as one self-contained HTML document (a string).

    Parameters
    ----------
    analysis : Analysis

    Returns
    -------
    str
        HTML with inline CSS, inline SVG figures and the results JSON embedded; the same analysis always
        gives the same text.
    """
    return _render(analysis, _figures(analysis, headline_metrics(analysis)))


def write_report(analysis: Analysis, out_dir: str | Path, *, figures: Sequence[str] = ("svg",)) -> dict[str, Path]:
    """Write the report folder: ``report.html``, ``results.json``, ``tables/*.csv`` and ``figures/*``.

    Parameters
    ----------
    analysis : Analysis
    out_dir : str or Path
        Folder to write into (made if missing; existing files of the same names are replaced).
    figures : sequence of {"svg", "pdf", "png"}
        Formats in which each figure is also saved under ``figures/`` (the HTML always inlines SVG);
        ``()`` saves none.

    Returns
    -------
    dict of str to Path
        Every file written, keyed by its path relative to ``out_dir`` in POSIX form, e.g.
        ``"report.html"``, ``"results.json"``, ``"tables/results.csv"``, ``"figures/forest_cohen_kappa.svg"``;
        bias-probe figures are ``"figures/probe_<probe>_<frame>.<format>"``.
    """
    formats = [f.lower().lstrip(".") for f in ([figures] if isinstance(figures, str) else figures)]
    bad = [f for f in formats if f not in FIGURE_FORMATS]
    if bad:
        raise ValueError(f"unknown figure format(s) {bad}; expected some of {list(FIGURE_FORMATS)}.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figs = _figures(analysis, headline_metrics(analysis))
    written: dict[str, Path] = {}
    html_path = out / "report.html"
    html_path.write_bytes(_render(analysis, figs).encode("utf-8"))
    written["report.html"] = html_path
    written["results.json"] = write_json(analysis, out / "results.json")
    for p in write_tables(analysis, out):
        written[p.relative_to(out).as_posix()] = p
    if formats:
        from ..plots import save_figure

        for f in figs:
            for fmt in _unique(formats):
                p = save_figure(f.figure, out / "figures" / f"{f.name}.{fmt}")
                written[p.relative_to(out).as_posix()] = p
    return written
