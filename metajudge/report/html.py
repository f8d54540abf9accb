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
    format_confidence,
    metajudge_version,
    probe_sort_key,
    probe_title,
    results_to_json,
    safe_filename,
    write_json,
    write_tables,
)

if TYPE_CHECKING:  # pragma: no cover
    from jinja2 import Environment
    from matplotlib.figure import Figure

__all__ = ["FIGURE_FORMATS", "HEADLINE_METRICS", "PROBE_FRAME_KINDS", "PROBE_ORDER", "PROBE_TITLES",
           "headline_metrics", "render_html", "write_report"]

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
    shown = {"versions", "inputs", "seed", "created_by", "created_at", "created", "timestamp", "date"}
    other = {str(k): v for k, v in prov.items() if k not in shown}
    return {
        "version": metajudge_version(analysis),
        "seed": _str(prov.get("seed")) or _DASH,
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
    kind: str       # "forest" | "confusion" | "probe"
    subject: str    # metric display name, judge name, or probe plot kind
    alt: str
    figure: Figure
    probe: str = ""  # the probe family, for kind "probe"
    key: int = -1    # index of the probe entry (see _probe_entries), for kind "probe"


def _figures(analysis: Analysis, headline: Sequence[str]) -> list[_Figure]:
    from ..plots import plot_confusion, plot_forest

    figs: list[_Figure] = []
    results = _ordered(analysis.results, RESULT_COLUMNS)
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
        "results_json": _json_for_html(results_to_json(analysis)),
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
