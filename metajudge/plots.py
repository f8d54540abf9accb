"""Figures: confusion-matrix heatmaps, forest plots of estimates with their confidence intervals, and the
plots of the bias probes (position classes, prefer-longer rate, self-preference, Bland–Altman, score
distributions, system rankings).

Every plot function takes a tidy DataFrame and an optional Matplotlib ``ax``, draws on it and returns the
Axes; nothing is shown or saved. Figures are created with :class:`matplotlib.figure.Figure` directly
(with an Agg canvas), never through ``pyplot``, so plotting touches no global state and is safe in threads,
on CI machines and in servers. :func:`save_figure` and :func:`figure_to_svg` write byte-identical files for
identical figures.

Colours come from the Okabe–Ito palette (safe for the common colour-vision deficiencies) and every colour
is paired with a distinct marker, so the plots also read in grey scale; bars, which have no markers, get distinct hatch patterns instead.
Frames that are empty or lack a required column give an Axes that says "no data" rather than an error.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import matplotlib
import matplotlib.colors
import matplotlib.patches
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .report.export import format_confidence
from .results import display_name

__all__ = [
    "OKABE_ITO",
    "POSITION_CLASS_STYLES",
    "ROW_STYLES",
    "figure_to_svg",
    "new_figure",
    "plot_bland_altman",
    "plot_confusion",
    "plot_forest",
    "plot_leaderboard",
    "plot_position_classes",
    "plot_prefer_longer",
    "plot_score_distribution",
    "plot_self_preference",
    "plot_system_ranking",
    "save_figure",
]

#: The Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008).
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Style of each kind of row in a forest plot: (legend label, colour, marker). Colour and marker both differ.
ROW_STYLES: dict[str, tuple[str, str, str]] = {
    "judge": ("LLM judge", OKABE_ITO["blue"], "o"),
    "ceiling_judge": ("Judge vs ceiling reference", OKABE_ITO["bluish_green"], "D"),
    "human": ("Human (ceiling)", OKABE_ITO["orange"], "s"),
    "baseline": ("Null baseline", OKABE_ITO["reddish_purple"], "^"),
    "comparison": ("Difference", OKABE_ITO["black"], "v"),
}

#: Salt for the ids Matplotlib writes into SVG files, so that the same figure gives the same bytes.
SVG_HASH_SALT = "metajudge"

#: Drawing and the rcParams overrides used while saving are serialised: Matplotlib's rc_context is global.
_SAVE_LOCK = threading.RLock()
_SAVE_METADATA: dict[str, dict[str, Any]] = {
    "pdf": {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None},
    "svg": {"Creator": None, "Date": None},
    "png": {"Software": None},
}


# ---------------------------------------------------------------------------------------------- helpers
def new_figure(width: float = 6.4, height: float = 4.0) -> Figure:
    """A new Figure with an Agg canvas and constrained layout, outside ``pyplot``'s global state."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _text(value: Any) -> str:
    """A data string made safe for Matplotlib text: ``$`` is escaped so it never starts mathtext."""
    return str(value).replace("$", r"\$")


def _wrap_label(label: str, width: int = 40, max_lines: int = 3) -> str:
    """A long tick label wrapped at spaces into at most ``max_lines`` lines (the rest cut with "…"), so that
    long judge or reference names cannot squeeze the plot area to nothing."""
    if len(label) <= width:
        return label
    lines = textwrap.wrap(label, width=width, break_long_words=True, break_on_hyphens=False)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return "\n".join(lines)


def _isnan(x: Any) -> bool:
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _relative_luminance(rgba: Sequence[float]) -> float:
    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(float(c)) for c in rgba[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


# -------------------------------------------------------------------------------------------- confusion
def plot_confusion(
    counts: pd.DataFrame,
    ax: Axes | None = None,
    title: str | None = None,
    normalize: Literal["row"] | None = "row",
    *,
    cmap: str = "cividis",
    colorbar: bool = True,
) -> Axes:
    """Heatmap of a confusion matrix with the counts written in each cell.

    Parameters
    ----------
    counts : DataFrame
        Counts with the reference levels as index and the judge levels as columns, in the declared order;
        the order is kept as given (never sorted).
    ax : Axes, optional
        Where to draw; a new Figure is made when omitted.
    title : str, optional
    normalize : {"row", None}
        ``"row"`` colours each cell by its share of the reference row (and writes the percentage under
        the count); ``None`` colours by the raw count.
    cmap : str
        A perceptually uniform, colour-blind-safe colour map (default ``"cividis"``).
    colorbar : bool
        Draw a colour bar beside the heatmap.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import pandas as pd
    >>> levels = ["poor", "fair", "good", "great"]
    >>> counts = pd.DataFrame([[5, 1, 0, 0], [1, 4, 2, 0], [0, 1, 6, 1], [0, 0, 2, 3]],
    ...                       index=levels, columns=levels)
    >>> ax = plot_confusion(counts, title="judge-a")
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['poor', 'fair', 'good', 'great']
    """
    if normalize not in ("row", None):
        raise ValueError(f"normalize must be 'row' or None; got {normalize!r}.")
    if not isinstance(counts, pd.DataFrame):
        raise TypeError(f"counts must be a pandas DataFrame (reference levels x judge levels); "
                        f"got {type(counts).__name__}.")
    n_rows, n_cols = counts.shape
    if ax is None:
        fig = new_figure(max(3.6, 1.2 + 0.75 * n_cols + (1.0 if colorbar else 0.0)),
                         max(3.0, 1.3 + 0.6 * n_rows))
        ax = fig.add_subplot()
    values = counts.to_numpy(dtype=float, na_value=0.0) if n_rows and n_cols else np.zeros((n_rows, n_cols))
    if normalize == "row":
        sums = values.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            shown = np.where(sums > 0, values / np.where(sums > 0, sums, 1.0), 0.0)
        vmin, vmax, bar_label = 0.0, 1.0, "share of reference row"
    else:
        shown = values
        vmin, vmax, bar_label = 0.0, float(values.max()) if values.size and values.max() > 0 else 1.0, "count"

    row_labels = [_text(v) for v in counts.index]
    col_labels = [_text(v) for v in counts.columns]
    ax.set_xlabel(_text(counts.columns.name) if counts.columns.name else "judge")
    ax.set_ylabel(_text(counts.index.name) if counts.index.name else "reference")
    if title:
        ax.set_title(_text(title))
    if values.size == 0:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return ax

    im = ax.imshow(shown, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", interpolation="nearest")
    ax.set_xticks(np.arange(n_cols), labels=col_labels)
    ax.set_yticks(np.arange(n_rows), labels=row_labels)
    if max((len(s) for s in col_labels), default=0) > 6:
        for lab in ax.get_xticklabels():
            lab.set_rotation(35)
            lab.set_horizontalalignment("right")
            lab.set_rotation_mode("anchor")
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks(np.arange(n_cols + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(n_rows + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)

    colormap = matplotlib.colormaps[cmap]
    span = (vmax - vmin) or 1.0
    for i in range(n_rows):
        for j in range(n_cols):
            v = values[i, j]
            count = f"{int(v):,}" if float(v).is_integer() else f"{v:,.2f}"
            label = f"{count}\n{shown[i, j]:.0%}" if normalize == "row" else count
            lum = _relative_luminance(colormap((shown[i, j] - vmin) / span))
            ax.text(j, i, label, ha="center", va="center", fontsize=8,
                    color="black" if lum > 0.4 else "white")
    if colorbar and ax.figure is not None:
        cb = ax.figure.colorbar(im, ax=ax, fraction=0.05, pad=0.03)
        cb.set_label(bar_label)
        if normalize == "row":
            cb.ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    return ax


# ----------------------------------------------------------------------------------------------- forest
def _row_kind(section: Any, rater_kind: Any) -> str:
    section = str(section)
    if section == "ceiling":
        return "human" if str(rater_kind) == "human" else "ceiling_judge"
    if section == "baseline" or str(rater_kind) == "baseline":
        return "baseline"
    if section == "comparison":
        return "comparison"
    if str(rater_kind) == "human":
        return "human"
    return "judge"


def _default_level(levels: pd.Series) -> str | None:
    present = [str(v) for v in pd.unique(levels.fillna("item"))]
    for pref in ("item", "dataset", "group", "system"):
        if pref in present:
            return pref
    return present[0] if present else None


def plot_forest(
    results: pd.DataFrame,
    metric: str,
    ax: Axes | None = None,
    *,
    slice: str = "all",  # noqa: A002 - the column is called slice
    level: str | None = None,
    sections: Sequence[str] = ("agreement", "ceiling", "baseline"),
    title: str | None = None,
) -> Axes:
    """Forest plot of one metric: a point and a horizontal confidence interval per judge / rater.

    Judges, human-ceiling rows and null baselines are told apart by colour **and** marker; rows whose
    estimate is undefined (NaN) are listed with the text "undefined" and their note.

    Parameters
    ----------
    results : DataFrame
        Rows with :data:`metajudge.results.RESULT_COLUMNS` (e.g. ``Analysis.results``).
    metric : str
        snake_case metric name; the axis is labelled with its display name and the confidence level.
    ax : Axes, optional
        Where to draw; a new Figure is made when omitted.
    slice : str
        Which slice to plot (default ``"all"``).
    level : str, optional
        Which level (item / dataset / group / system); default: item, else dataset, group, system.
    sections : sequence of str
        Sections of the results to include, drawn top to bottom in this order.
    title : str, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"section": ["agreement", "ceiling", "baseline"], "judge": ["j1", "h1", "random"],
    ...     "rater_kind": ["judge", "human", "baseline"], "reference": ["majority(humans)"] * 3,
    ...     "metric": "cohen_kappa", "level": "item", "slice": "all", "estimate": [0.6, 0.7, float("nan")],
    ...     "ci_low": [0.5, 0.6, float("nan")], "ci_high": [0.7, 0.8, float("nan")],
    ...     "confidence_level": 0.95, "n": 100, "method": "bootstrap", "note": ["", "", "undefined: p_e = 1"]})
    >>> ax = plot_forest(rows, "cohen_kappa")
    >>> ax.get_xlabel()
    "Cohen's κ: estimate and 95% CI"
    """
    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"results must be a pandas DataFrame with RESULT_COLUMNS; got {type(results).__name__}.")
    missing = [c for c in ("section", "judge", "metric", "estimate", "ci_low", "ci_high") if c not in results]
    if missing:
        raise ValueError(f"results lack the column(s) {missing}; expected metajudge.results.RESULT_COLUMNS.")
    df = results[results["metric"] == metric]
    if "slice" in df:
        df = df[df["slice"].fillna("all").astype(str) == slice]
    df = df[df["section"].astype(str).isin(list(sections))]
    if df.empty:
        available = sorted(set(results["metric"].astype(str)))
        raise ValueError(f"no rows for metric {metric!r} (slice {slice!r}, sections {list(sections)}) in "
                         f"results; metrics present: {available}.")
    if "level" in df:
        lv = level if level is not None else _default_level(df["level"])
        df = df[df["level"].fillna("item").astype(str) == lv]
        if df.empty:
            raise ValueError(f"no rows for metric {metric!r} at level {level!r}.")
    order = {s: k for k, s in enumerate(sections)}
    df = (df.assign(_order=df["section"].astype(str).map(order), _pos=np.arange(len(df)))
          .sort_values(["_order", "_pos"], kind="stable").reset_index(drop=True))

    labels: list[str] = []
    kinds: list[str] = []
    for _, row in df.iterrows():
        kind = _row_kind(row["section"], row.get("rater_kind", ""))
        ref = row.get("reference", "")
        lab = str(row["judge"])
        if kind in ("human", "ceiling_judge") and isinstance(ref, str) and ref:
            lab = f"{lab} vs {ref}"
        labels.append(lab)
        kinds.append(kind)
    if len(set(labels)) < len(labels) and "reference" in df:
        seen = pd.Series(labels).duplicated(keep=False).to_numpy()
        labels = [f"{lab} vs {df['reference'].iloc[k]}" if seen[k] and " vs " not in lab else lab
                  for k, lab in enumerate(labels)]

    labels = [_wrap_label(s) for s in labels]
    n = len(df)
    if ax is None:
        extra_lines = sum(s.count("\n") for s in labels)
        fig = new_figure(7.0, max(2.4, 1.5 + 0.38 * n + 0.16 * extra_lines))
        ax = fig.add_subplot()
    y = np.arange(n, dtype=float)
    est = pd.to_numeric(df["estimate"], errors="coerce").to_numpy(dtype=float)
    lo = pd.to_numeric(df["ci_low"], errors="coerce").to_numpy(dtype=float)
    hi = pd.to_numeric(df["ci_high"], errors="coerce").to_numpy(dtype=float)

    used: list[str] = []
    for i in range(n):
        label, colour, marker = ROW_STYLES[kinds[i]]
        if kinds[i] not in used:
            used.append(kinds[i])
        if math.isnan(est[i]):
            note = str(df["note"].iloc[i]) if "note" in df and not _isnan(df["note"].iloc[i]) else ""
            note = note if len(note) <= 48 else note[:47] + "…"
            text = note if note.lower().startswith("undefined") else "undefined" + (f" ({note})" if note else "")
            ax.text(0.02, y[i], _text(text), color=colour,
                    ha="left", va="center", fontsize=8, fontstyle="italic", transform=ax.get_yaxis_transform())
            continue
        if not (math.isnan(lo[i]) or math.isnan(hi[i])):
            ax.hlines(y[i], lo[i], hi[i], color=colour, linewidth=1.8)
            ax.vlines([lo[i], hi[i]], y[i] - 0.12, y[i] + 0.12, color=colour, linewidth=1.2)
        ax.plot([est[i]], [y[i]], linestyle="none", marker=marker, markersize=7, color=colour,
                markeredgecolor="black", markeredgewidth=0.6)

    finite = np.concatenate([v[np.isfinite(v)] for v in (est, lo, hi)])
    if finite.size:
        lo_x, hi_x = float(min(finite.min(), 0.0)), float(max(finite.max(), 0.0))
        pad = 0.05 * ((hi_x - lo_x) or 1.0)
        ax.set_xlim(lo_x - pad, hi_x + pad)
    else:
        ax.set_xlim(-1.0, 1.0)
    ax.axvline(0.0, color="#999999", linewidth=0.8, linestyle="--", zorder=0)
    for k in range(1, n):
        if df["section"].iloc[k] != df["section"].iloc[k - 1]:
            ax.axhline(k - 0.5, color="#bbbbbb", linewidth=0.6)
    ax.set_yticks(y, labels=[_text(s) for s in labels])
    ax.set_ylim(n - 0.5, -0.5)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    cl = df["confidence_level"] if "confidence_level" in df else pd.Series([], dtype=float)
    ax.set_xlabel(_text(f"{display_name(metric)}: estimate and {format_confidence(cl)}"))
    if title:
        ax.set_title(_text(title))
    handles = [Line2D([], [], linestyle="-", color=ROW_STYLES[k][1], marker=ROW_STYLES[k][2],
                      markeredgecolor="black", markeredgewidth=0.6, label=ROW_STYLES[k][0]) for k in used]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    return ax


# ------------------------------------------------------------------------------------- probe plot helpers
#: Colour, hatch and legend label of the position classes of Shi et al. (2024).
POSITION_CLASS_STYLES: dict[str, tuple[str, str, str]] = {
    "consistent": (OKABE_ITO["bluish_green"], "", "consistent"),
    "primacy": (OKABE_ITO["orange"], "//", "primacy (first slot wins)"),
    "recency": (OKABE_ITO["sky_blue"], "\\\\", "recency (second slot wins)"),
}

#: Series styles (colour, marker) for judges, in order; humans are drawn in black with squares.
_SERIES_COLOURS: tuple[str, ...] = tuple(OKABE_ITO[k] for k in ("blue", "vermillion", "bluish_green",
                                                                 "reddish_purple", "orange", "sky_blue"))
_SERIES_MARKERS: tuple[str, ...] = ("o", "^", "D", "v", "P", "X", "<", ">", "p", "h")
_SERIES_HATCHES: tuple[str, ...] = ("", "//", "\\\\", "xx", "..", "--", "++", "oo")
_HUMAN_STYLE: tuple[str, str] = (OKABE_ITO["black"], "s")
_HUMAN_NAMES = frozenset({"human", "humans"})
_EXTRA_CLASS_COLOURS: tuple[str, ...] = (OKABE_ITO["reddish_purple"], OKABE_ITO["yellow"], OKABE_ITO["vermillion"],
                                          OKABE_ITO["blue"])


def _series_style(k: int) -> tuple[str, str]:
    """Colour and marker of the k-th series (each of the first 30 series has a distinct pair)."""
    return _SERIES_COLOURS[k % len(_SERIES_COLOURS)], _SERIES_MARKERS[k % len(_SERIES_MARKERS)]


def _is_human(name: Any) -> bool:
    return str(name).strip().lower() in _HUMAN_NAMES or str(name).strip().lower().startswith("human")


def _rater_styles(raters: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Colour and marker per rater: humans black squares, judges the series styles in order."""
    styles: dict[str, tuple[str, str]] = {}
    k = 0
    for r in raters:
        if _is_human(r):
            styles[r] = _HUMAN_STYLE
        else:
            styles[r] = _series_style(k)
            k += 1
    return styles


def _humans_first(raters: Sequence[str]) -> list[str]:
    return [r for r in raters if _is_human(r)] + [r for r in raters if not _is_human(r)]


def _appearance(values: Any) -> list[Any]:
    """Distinct values in order of first appearance (categorical columns: in category order)."""
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        present = set(values.dropna().tolist())
        return [c for c in values.cat.categories if c in present]
    return list(dict.fromkeys(v for v in values if not _isnan(v)))


def _no_data(ax: Axes | None, message: str = "no data", *, title: str | None = None,
             size: tuple[float, float] = (5.0, 3.0)) -> Axes:
    """An Axes that says ``message`` (for empty frames and frames missing a required column)."""
    if ax is None:
        ax = new_figure(*size).add_subplot()
    ax.text(0.5, 0.5, _text(message), ha="center", va="center", transform=ax.transAxes, color="#555555")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(_text(title))
    return ax


def _check_frame(frame: Any, required: Sequence[str]) -> str | None:
    """``None`` when ``frame`` is a non-empty DataFrame with the ``required`` columns, else why not."""
    if not isinstance(frame, pd.DataFrame):
        return "no data"
    missing = [c for c in required if c not in frame.columns]
    if missing:
        return f"no data (missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)})"
    if frame.empty:
        return "no data"
    return None


def _nums(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)


def _bar_text_colour(colour: str) -> str:
    return "black" if _relative_luminance(matplotlib.colors.to_rgba(colour)) > 0.3 else "white"


def _rotate_long_labels(ax: Axes, labels: Sequence[str], limit: int = 6) -> None:
    if max((len(s) for s in labels), default=0) > limit:
        for lab in ax.get_xticklabels():
            lab.set_rotation(30)
            lab.set_horizontalalignment("right")
            lab.set_rotation_mode("anchor")


def _legend_right(ax: Axes, handles: Sequence[Any], title: str | None = None) -> None:
    if handles:
        ax.legend(handles=list(handles), loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8,
                  title=_text(title) if title else None, title_fontsize=8)


# -------------------------------------------------------------------------------------- position classes
def plot_position_classes(frame: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """Horizontal stacked bars, one per judge: shares of consistent, primacy and recency pairs.

    Each pair judged in both presentation orders is classified as in Shi et al. (2024) (METRICS.md §5);
    a bar shows the share of each class among the judge's classified pairs, with the count written in
    every segment wide enough to hold it and the number of pairs beside the judge's name. Classes are
    told apart by colour **and** hatch.

    Parameters
    ----------
    frame : DataFrame
        Columns ``judge``, ``cls`` (``consistent``, ``primacy``, ``recency``; other classes are drawn after
        them) and ``count``. Judges are drawn top to bottom in order of first appearance.
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"judge": ["j1"] * 3, "cls": ["consistent", "primacy", "recency"],
    ...                       "count": [70, 20, 10]})
    >>> ax = plot_position_classes(frame)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['j1\\n(n = 100)']
    """
    why = _check_frame(frame, ("judge", "cls", "count"))
    if why:
        return _no_data(ax, why, title=title)
    df = pd.DataFrame({"judge": frame["judge"].map(str), "cls": frame["cls"].map(str),
                       "count": _nums(frame["count"])})
    df = df[np.isfinite(df["count"])]
    if df.empty:
        return _no_data(ax, "no data", title=title)
    judges = _appearance(df["judge"])
    classes = [c for c in POSITION_CLASS_STYLES] + [c for c in _appearance(df["cls"]) if c not in POSITION_CLASS_STYLES]
    styles = dict(POSITION_CLASS_STYLES)
    for k, c in enumerate(c for c in classes if c not in POSITION_CLASS_STYLES):
        styles[c] = (_EXTRA_CLASS_COLOURS[k % len(_EXTRA_CLASS_COLOURS)],
                     _SERIES_HATCHES[(k + 3) % len(_SERIES_HATCHES)], c)
    table = df.groupby(["judge", "cls"], sort=False)["count"].sum()
    if ax is None:
        fig = new_figure(7.0, max(2.2, 1.3 + 0.55 * len(judges)))
        ax = fig.add_subplot()
    y = np.arange(len(judges), dtype=float)
    totals = np.array([sum(float(table.get((j, c), 0.0)) for c in classes) for j in judges])
    left = np.zeros(len(judges))
    for c in classes:
        counts = np.array([float(table.get((j, c), 0.0)) for j in judges])
        shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
        colour, hatch, _label = styles[c]
        ax.barh(y, shares, left=left, height=0.62, color=colour, hatch=hatch, edgecolor="#333333", linewidth=0.5)
        for i in range(len(judges)):
            if shares[i] >= 0.07:
                ax.text(left[i] + shares[i] / 2, y[i], f"{int(counts[i]):,}" if counts[i].is_integer()
                        else f"{counts[i]:,.1f}", ha="center", va="center", fontsize=8,
                        color=_bar_text_colour(colour),
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": colour, "edgecolor": "none"})
        left += shares
    for i in range(len(judges)):
        if totals[i] <= 0:
            ax.text(0.02, y[i], "no classified pairs", ha="left", va="center", fontsize=8, fontstyle="italic")
    labels = [f"{_text(j)}\n(n = {int(t):,})" for j, t in zip(judges, totals, strict=True)]
    ax.set_yticks(y, labels=labels)
    ax.set_ylim(len(judges) - 0.5, -0.5)
    ax.set_xlim(0.0, 1.0)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("share of pairs judged in both orders")
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(_text(title))
    handles = [matplotlib.patches.Patch(facecolor=styles[c][0], hatch=styles[c][1], edgecolor="#333333",
                                        linewidth=0.5, label=_text(styles[c][2])) for c in classes]
    _legend_right(ax, handles)
    return ax


# ----------------------------------------------------------------------------------------- prefer longer
def plot_prefer_longer(frame: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None,
                       y: str | None = None) -> Axes:
    """Prefer-longer rate against the length difference: one line per rater, humans beside each judge.

    The humans' rate on the same pairs is drawn in black with squares and a dashed line, each judge in its
    own colour and marker; marker areas grow with the number of pairs in the bin (when ``n`` is given).
    A horizontal line marks 0.5 (no preference for length).

    Parameters
    ----------
    frame : DataFrame
        Columns ``rater`` (``"humans"`` or a judge name), ``bin`` (centre of a Δ log-length bin) and ``rate``
        (share of decisive pairs in the bin where the longer response was preferred); optional ``n``.
        Pointwise length probes give ``score`` (mean score per log-length bin) instead of ``rate``: it is
        drawn the same way, without the 0.5 line.
    ax : Axes, optional
    title : str, optional
    y : str, optional
        The column to draw (default ``rate``, else ``score``).

    Returns
    -------
    Axes
    """
    if y is None:
        y = "score" if isinstance(frame, pd.DataFrame) and "rate" not in frame and "score" in frame else "rate"
    why = _check_frame(frame, ("rater", "bin", y))
    if why:
        return _no_data(ax, why, title=title)
    is_rate = y == "rate"
    df = pd.DataFrame({"rater": frame["rater"].map(str), "bin": _nums(frame["bin"]), "rate": _nums(frame[y]),
                       "n": _nums(frame["n"]) if "n" in frame.columns else np.full(len(frame), np.nan)})
    df = df[np.isfinite(df["bin"]) & np.isfinite(df["rate"])]
    if df.empty:
        return _no_data(ax, "no data", title=title)
    raters = _humans_first(_appearance(df["rater"]))
    styles = _rater_styles(raters)
    if ax is None:
        ax = new_figure(7.0, 4.0).add_subplot()
    n_max = float(np.nanmax(df["n"])) if np.isfinite(df["n"]).any() else math.nan
    handles = []
    for r in raters:
        part = df[df["rater"] == r].sort_values("bin", kind="stable")
        colour, marker = styles[r]
        human = _is_human(r)
        ls = "--" if human else "-"
        ax.plot(part["bin"], part["rate"], linestyle=ls, color=colour, linewidth=1.4, zorder=2)
        if math.isfinite(n_max) and n_max > 0:
            nn = part["n"].fillna(0.0).to_numpy(dtype=float)
            sizes = 12.0 + 70.0 * np.sqrt(np.clip(nn, 0.0, None) / n_max)
        else:
            sizes = np.full(len(part), 36.0)
        ax.scatter(part["bin"], part["rate"], s=sizes, marker=marker, color=colour, edgecolors="black",
                   linewidths=0.5, zorder=3)
        handles.append(Line2D([], [], linestyle=ls, color=colour, marker=marker, markeredgecolor="black",
                              markeredgewidth=0.5, label=_text(r)))
    if is_rate:
        ax.axhline(0.5, color="#777777", linewidth=0.9, linestyle=":", zorder=1)
        ax.text(1.0, 0.5, " 0.5: no length preference", transform=ax.get_yaxis_transform(), fontsize=7,
                color="#555555", ha="right", va="bottom")
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("Δ log length (bin centre)")
        ax.set_ylabel("prefer-longer rate")
    else:
        ax.set_xlabel("log length (bin centre)")
        ax.set_ylabel(f"mean {_text(y)}")
    ax.grid(color="#ececec", linewidth=0.6)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(_text(title))
    if np.isfinite(df["n"]).any():
        handles.append(Line2D([], [], linestyle="none", marker="o", color="#bbbbbb", markeredgecolor="black",
                              markeredgewidth=0.5,
                              label="marker area ∝ pairs in bin" if is_rate else "marker area ∝ items in bin"))
    _legend_right(ax, handles)
    return ax


# --------------------------------------------------------------------------------------- self-preference
def _self_preference_panel(ax: Axes, df: pd.DataFrame, groups: Sequence[str],
                           styles: Mapping[str, tuple[str, str]]) -> bool:
    """Grouped bars of ``df`` (columns cluster, label, group, value, lo, hi) on ``ax``; True if any whisker."""
    clusters = _appearance(df["cluster"])
    labels = [str(df.loc[df["cluster"] == c, "label"].iloc[0]) for c in clusters]
    present = [g for g in groups if g in set(df["group"])]
    width = 0.8 / max(1, len(present))
    x = np.arange(len(clusters), dtype=float)
    any_whisker = False
    for g_idx, g in enumerate(present):
        colour, hatch = styles[g]
        part = df[df["group"] == g].drop_duplicates("cluster", keep="first").set_index("cluster")
        xs = x - 0.4 + width * (g_idx + 0.5)
        vals = np.array([part["value"].get(c, np.nan) for c in clusters], dtype=float)
        lo = np.array([part["lo"].get(c, np.nan) for c in clusters], dtype=float)
        hi = np.array([part["hi"].get(c, np.nan) for c in clusters], dtype=float)
        ok = np.isfinite(vals)
        ax.bar(xs[ok], vals[ok], width=width * 0.92, color=colour, hatch=hatch, edgecolor="#333333",
               linewidth=0.5, zorder=2)
        whisk = ok & np.isfinite(lo) & np.isfinite(hi)
        if whisk.any():
            any_whisker = True
            ax.errorbar(xs[whisk], vals[whisk],
                        yerr=np.vstack([np.clip(vals[whisk] - lo[whisk], 0, None),
                                        np.clip(hi[whisk] - vals[whisk], 0, None)]),
                        fmt="none", ecolor="black", elinewidth=1.0, capsize=3, zorder=3)
        for i in np.flatnonzero(~ok & np.array([c in part.index for c in clusters])):
            ax.text(xs[i], 0.0, "undefined", rotation=90, ha="center", va="bottom", fontsize=7,
                    fontstyle="italic", color="#555555")
    ax.axhline(0.0, color="#777777", linewidth=0.8, zorder=1)
    ax.set_xticks(x, labels=[_text(lab) for lab in labels])
    _rotate_long_labels(ax, labels, limit=12)
    ax.set_xlim(-0.6, len(clusters) - 0.4)
    ax.grid(axis="y", color="#ececec", linewidth=0.6)
    ax.set_axisbelow(True)
    return any_whisker


def plot_self_preference(frame: pd.DataFrame, ax: Axes | None = None, *, title: str | None = None,
                         ylabel: str | None = None) -> Axes:
    """Grouped bars with confidence-interval whiskers: one cluster per judge, one bar per group.

    Groups (e.g. ``own`` / ``other``: P(judge prefers own | human prefers own) and P(judge prefers other |
    human prefers other); or ``judge`` / ``human`` win rates) are told apart by colour and hatch, and keep
    the same style across panels.

    Parameters
    ----------
    frame : DataFrame
        Columns ``judge``, ``group`` and ``value``; optional ``ci_low`` and ``ci_high`` (whiskers drawn where
        both are finite) and ``metric``. With one metric its display name labels the y axis; with several,
        each metric gets its own panel (values of different metrics are on different scales), or, when ``ax``
        is given, its own clusters labelled "judge / metric". Judges, groups and metrics keep their order of
        first appearance.
    ax : Axes, optional
        Where to draw; without it a new Figure is made (with several metrics: one panel per metric, all in
        ``ax.figure.axes``, the first returned).
    title, ylabel : str, optional

    Returns
    -------
    Axes
    """
    why = _check_frame(frame, ("judge", "group", "value"))
    if why:
        return _no_data(ax, why, title=title)
    nan = np.full(len(frame), np.nan)
    df = pd.DataFrame({"judge": frame["judge"].map(str), "group": frame["group"].map(str),
                       "metric": frame["metric"].map(lambda v: "" if _isnan(v) else str(v))
                       if "metric" in frame.columns else "",
                       "value": _nums(frame["value"]),
                       "lo": _nums(frame["ci_low"]) if "ci_low" in frame.columns else nan,
                       "hi": _nums(frame["ci_high"]) if "ci_high" in frame.columns else nan})
    groups = _appearance(df["group"])
    styles = {g: (_SERIES_COLOURS[k % len(_SERIES_COLOURS)], _SERIES_HATCHES[k % len(_SERIES_HATCHES)])
              for k, g in enumerate(groups)}
    metrics = _appearance(df["metric"])
    handles: list[Any] = [matplotlib.patches.Patch(facecolor=styles[g][0], hatch=styles[g][1], edgecolor="#333333",
                                                   linewidth=0.5, label=_text(g)) for g in groups]
    ci_handle = Line2D([], [], color="black", linewidth=1.0, marker="_", markersize=6, label="confidence interval")
    if len(metrics) > 1 and ax is None:
        ncols = min(3, len(metrics))
        nrows = math.ceil(len(metrics) / ncols)
        n_judges = len(_appearance(df["judge"]))
        fig = new_figure(max(5.0, ncols * (1.6 + 0.5 * n_judges * max(1, len(groups)) ** 0.5)),
                         3.4 * nrows + 0.5 + (0.3 if title else 0.0))
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        whiskers = False
        for k, m in enumerate(metrics):
            part = df[df["metric"] == m].assign(cluster=lambda d: d["judge"], label=lambda d: d["judge"])
            whiskers |= _self_preference_panel(axes[k], part, groups, styles)
            axes[k].set_title(_text(display_name(m)) if m else "", fontsize=9)
            axes[k].set_ylabel(_text(ylabel) if ylabel else ("value" if k % ncols == 0 else ""))
        for extra_ax in axes[len(metrics):]:
            fig.delaxes(extra_ax)
        fig.legend(handles=handles + ([ci_handle] if whiskers else []), loc="outside lower center",
                   ncols=min(5, len(handles) + 1), frameon=False, fontsize=8)
        if title:
            fig.suptitle(_text(title))
        return axes[0]
    if len(metrics) > 1:
        df = df.assign(cluster=df["metric"] + "\x00" + df["judge"],
                       label=[f"{j}\n{display_name(m)}" for j, m in zip(df["judge"], df["metric"], strict=True)])
    else:
        df = df.assign(cluster=df["judge"], label=df["judge"])
    if ax is None:
        n_clusters = len(_appearance(df["cluster"]))
        ax = new_figure(max(4.5, 2.2 + 0.55 * n_clusters * max(1, len(groups))), 4.0).add_subplot()
    whiskers = _self_preference_panel(ax, df, groups, styles)
    if ylabel is None and len(metrics) == 1 and metrics[0]:
        ylabel = display_name(metrics[0])
    ax.set_ylabel(_text(ylabel) if ylabel else "value")
    if title:
        ax.set_title(_text(title))
    _legend_right(ax, handles + ([ci_handle] if whiskers else []))
    return ax


# ----------------------------------------------------------------------------------------- Bland-Altman
def _limits_for(judge: str, sub: pd.DataFrame, diff: np.ndarray, limits: Any) -> tuple[float, float, float]:
    """(mean shift, lower, upper limit of agreement) of one judge: from ``limits``, the frame's optional
    ``shift`` / ``loa_low`` / ``loa_high`` columns, or computed as mean ± 1.96 SD of the differences."""
    given: Any = None
    if isinstance(limits, Mapping):
        if judge in limits:
            given = limits[judge]
        elif {"shift", "lower", "upper"} & set(limits) or {"mean", "loa_low", "loa_high"} & set(limits):
            given = limits
    elif isinstance(limits, (tuple, list)) and len(limits) == 3:
        given = limits
    if given is None and {"shift", "loa_low", "loa_high"} <= set(sub.columns):
        vals = [_nums(sub[c]) for c in ("shift", "loa_low", "loa_high")]
        firsts = [v[np.isfinite(v)] for v in vals]
        if all(f.size for f in firsts):
            given = tuple(float(f[0]) for f in firsts)
    if given is not None:
        if isinstance(given, Mapping):
            shift = given.get("shift", given.get("mean", math.nan))
            lo = given.get("lower", given.get("loa_low", math.nan))
            hi = given.get("upper", given.get("loa_high", math.nan))
        else:
            shift, lo, hi = given
        return float(shift), float(lo), float(hi)
    if diff.size == 0:
        return math.nan, math.nan, math.nan
    shift = float(np.mean(diff))
    if diff.size < 2:
        return shift, math.nan, math.nan
    sd = float(np.std(diff, ddof=1))
    return shift, shift - 1.96 * sd, shift + 1.96 * sd


def _bland_altman_panel(ax: Axes, df: pd.DataFrame, judges: Sequence[str], limits: Any,
                        styles: Mapping[str, tuple[str, str]], *, label_lines: bool) -> list[Any]:
    handles: list[Any] = []
    counts_max = 1.0
    groups = {}
    for j in judges:
        sub = df[df["judge"] == j]
        pts = sub.groupby(["mean", "diff"], sort=True)["count"].sum().reset_index(name="k")
        groups[j] = (sub, pts)
        if len(pts):
            counts_max = max(counts_max, float(pts["k"].max()))
    for j in judges:
        sub, pts = groups[j]
        colour, marker = styles[j]
        sizes = 14.0 + 90.0 * np.sqrt(pts["k"].to_numpy(dtype=float) / counts_max)
        ax.scatter(pts["mean"], pts["diff"], s=sizes, marker=marker, color=colour, alpha=0.55,
                   edgecolors="black", linewidths=0.4, zorder=3)
        diffs = np.repeat(sub["diff"].to_numpy(dtype=float), sub["count"].to_numpy(dtype=np.int64))
        shift, lo, hi = _limits_for(j, sub, diffs, limits)
        if math.isfinite(shift):
            ax.axhline(shift, color=colour, linewidth=1.6, zorder=2)
        for v in (lo, hi):
            if math.isfinite(v):
                ax.axhline(v, color=colour, linewidth=1.1, linestyle="--", zorder=2)
        if label_lines:
            summary = _limits_summary(shift, lo, hi)
            head = f"{_text(j)}\n" if j else ""
            ax.set_title(head + summary, fontsize=9)
        handles.append(Line2D([], [], linestyle="none", marker=marker, color=colour, markeredgecolor="black",
                              markeredgewidth=0.4, label=_text(j) if j else "points"))
    ax.axhline(0.0, color="#999999", linewidth=0.8, linestyle=":", zorder=1)
    ax.set_xlabel("mean of judge and human score")
    ax.set_ylabel("judge − human score")
    ax.grid(color="#ececec", linewidth=0.6)
    ax.set_axisbelow(True)
    return handles


def _signed(x: float) -> str:
    return f"{x:+.2f}".replace("-", "−")


def _limits_summary(shift: float, lo: float, hi: float) -> str:
    parts = []
    if math.isfinite(shift):
        parts.append(f"shift {_signed(shift)}")
    if math.isfinite(lo) and math.isfinite(hi):
        parts.append(f"LoA [{_signed(lo)}, {_signed(hi)}]")
    return ", ".join(parts)


def _line_handles() -> list[Any]:
    return [Line2D([], [], color="#555555", linewidth=1.6, label="mean shift (judge − human)"),
            Line2D([], [], color="#555555", linewidth=1.1, linestyle="--",
                   label="limits of agreement, LoA (mean ± 1.96 SD)")]


def plot_bland_altman(frame: pd.DataFrame, ax: Axes | None = None, *, judge: str | None = None,
                      limits: Any = None, title: str | None = None) -> Axes:
    """Bland–Altman plot: difference (judge − human) against the mean of the two scores, per item.

    A solid line marks the mean shift (leniency: above 0 the judge scores higher than the humans), dashed
    lines the limits of agreement (mean ± 1.96 SD of the differences). Items with the same (mean, diff)
    are drawn once, the marker area growing with their number, so discrete scales do not hide overplotting.

    Parameters
    ----------
    frame : DataFrame
        Columns ``mean`` and ``diff`` and (unless there is one judge) ``judge``; optional ``count`` (items at
        the point, default 1: the leniency probe's frame holds distinct points with counts); optional constant
        columns ``shift``, ``loa_low`` and ``loa_high`` give the lines instead of computing them.
    ax : Axes, optional
        Where to draw. Without it a new Figure gets one panel per judge (sharing the y axis; all panels are in
        ``ax.figure.axes``) and the first panel is returned; with it the judges are overlaid in distinct
        colours and markers.
    judge : str, optional
        Draw only this judge.
    limits : tuple or mapping, optional
        ``(shift, lower, upper)`` or ``{"shift": .., "lower": .., "upper": ..}`` for the (single) judge, or
        ``{judge: (shift, lower, upper)}``, e.g. taken from the result rows.
    title : str, optional

    Returns
    -------
    Axes
    """
    why = _check_frame(frame, ("mean", "diff"))
    if why:
        return _no_data(ax, why, title=title)
    extra = [c for c in ("shift", "loa_low", "loa_high") if c in frame.columns]
    count = _nums(frame["count"]) if "count" in frame.columns else np.ones(len(frame))
    df = pd.DataFrame({"judge": frame["judge"].map(str) if "judge" in frame.columns else "",
                       "mean": _nums(frame["mean"]), "diff": _nums(frame["diff"]),
                       "count": np.where(np.isfinite(count), count, 0).astype(np.int64),
                       **{c: _nums(frame[c]) for c in extra}})
    if judge is not None:
        df = df[df["judge"] == str(judge)]
        if df.empty:
            return _no_data(ax, f"no data for {judge}", title=title)
    df = df[np.isfinite(df["mean"]) & np.isfinite(df["diff"])]
    if df.empty:
        return _no_data(ax, "no data", title=title)
    judges = _appearance(df["judge"])
    styles = {j: _series_style(k) for k, j in enumerate(judges)}
    if ax is not None:
        handles = _bland_altman_panel(ax, df, judges, limits, styles, label_lines=len(judges) == 1)
        _legend_right(ax, (handles if len(judges) > 1 else []) + _line_handles())
        if title:
            ax.set_title(_text(title) + ("\n" + ax.get_title() if ax.get_title() else ""), fontsize=10)
        return ax
    ncols = min(3, len(judges))
    nrows = math.ceil(len(judges) / ncols)
    fig = new_figure(max(4.2, 3.4 * ncols), 3.2 * nrows + (0.4 if title else 0.0))
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True).ravel()
    for k, j in enumerate(judges):
        _bland_altman_panel(axes[k], df, [j], limits, styles, label_lines=True)
        if k % ncols:
            axes[k].set_ylabel("")
    for extra_ax in axes[len(judges):]:
        fig.delaxes(extra_ax)
    fig.legend(handles=_line_handles(), loc="outside lower center", ncols=2, frameon=False, fontsize=8)
    if title:
        fig.suptitle(_text(title))
    return axes[0]


# ----------------------------------------------------------------------------------- score distribution
def plot_score_distribution(frame: pd.DataFrame, ax: Axes | None = None, *, levels: Sequence[Any] | None = None,
                            title: str | None = None) -> Axes:
    """Grouped bars: the share of each score level, humans beside each judge.

    Levels are drawn in the order given (``levels``, else the column's category order, else the order of
    first appearance in the frame): never sorted, so "poor, fair, good, great" stays in that order. Raters
    are told apart by colour and hatch; humans come first, in black.

    Parameters
    ----------
    frame : DataFrame
        Columns ``rater`` (``"humans"`` or a judge), ``value`` (a score level) and ``share`` (0–1).
    ax : Axes, optional
    levels : sequence, optional
        The declared level order; levels in the frame but not listed are appended in order of appearance.
    title : str, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"rater": ["humans"] * 3, "value": ["poor", "fair", "good"],
    ...                       "share": [0.2, 0.5, 0.3]})
    >>> [t.get_text() for t in plot_score_distribution(frame).get_xticklabels()]
    ['poor', 'fair', 'good']
    """
    why = _check_frame(frame, ("rater", "value", "share"))
    if why:
        return _no_data(ax, why, title=title)
    value_order = _appearance(frame["value"])
    keys: list[str] = []
    if levels is not None:
        keys = [str(v) for v in levels]
    keys += [str(v) for v in value_order if str(v) not in keys]
    df = pd.DataFrame({"rater": frame["rater"].map(str), "value": frame["value"].map(str),
                       "share": _nums(frame["share"])})
    if levels is not None:  # declared levels without data are kept only when some data is on the scale
        present = set(df["value"])
        if not present & {str(v) for v in levels}:
            keys = [k for k in keys if k in present]
    raters = _humans_first(_appearance(df["rater"]))
    if ax is None:
        ax = new_figure(max(5.0, 2.4 + 0.5 * len(keys) * max(1, len(raters)) ** 0.5 * 1.2), 3.8).add_subplot()
    width = 0.8 / max(1, len(raters))
    x = np.arange(len(keys), dtype=float)
    handles = []
    k_judge = 0
    for r_idx, r in enumerate(raters):
        if _is_human(r):
            colour, hatch = OKABE_ITO["black"], ""
        else:
            colour = _SERIES_COLOURS[k_judge % len(_SERIES_COLOURS)]
            hatch = _SERIES_HATCHES[(k_judge + 1) % len(_SERIES_HATCHES)]
            k_judge += 1
        part = df[df["rater"] == r].groupby("value", sort=False)["share"].sum(min_count=1)
        vals = np.array([part.get(k, np.nan) for k in keys], dtype=float)
        ok = np.isfinite(vals)
        xs = x - 0.4 + width * (r_idx + 0.5)
        ax.bar(xs[ok], vals[ok], width=width * 0.92, color=colour, hatch=hatch,
               edgecolor="white" if _is_human(r) else "#333333", linewidth=0.5, zorder=2)
        handles.append(matplotlib.patches.Patch(facecolor=colour, hatch=hatch, edgecolor="#333333", linewidth=0.5,
                                                label=_text(r)))
    labels = [_text(k) for k in keys]
    ax.set_xticks(x, labels=labels)
    _rotate_long_labels(ax, labels)
    ax.set_xlim(-0.6, len(keys) - 0.4)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel("score level")
    ax.set_ylabel("share of items")
    ax.grid(axis="y", color="#ececec", linewidth=0.6)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(_text(title))
    _legend_right(ax, handles)
    return ax


# --------------------------------------------------------------------------------------- system ranking
def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return math.nan
    ra = pd.Series(a[ok]).rank().to_numpy()
    rb = pd.Series(b[ok]).rank().to_numpy()
    if np.std(ra) == 0 or np.std(rb) == 0:
        return math.nan
    return float(np.corrcoef(ra, rb)[0, 1])


def plot_system_ranking(frame: pd.DataFrame, ax: Axes | None = None, *, judge: str | None = None,
                        title: str | None = None, max_labels: int = 40) -> Axes:
    """Per-system scores: judge score against human score, one point per (judge, system), labelled.

    A dashed grey identity line (y = x) shows where judge and humans give a system the same score and a
    line in each judge's colour its least-squares trend; the legend gives each judge's Spearman ρ between
    the two system rankings (from ``human_rank`` / ``judge_rank`` when given, else from the scores).

    Parameters
    ----------
    frame : DataFrame
        Columns ``system``, ``human_score`` and ``judge_score``; optional ``judge`` (several judges are drawn
        in distinct colours and markers), ``human_rank`` and ``judge_rank``.
    ax : Axes, optional
    judge : str, optional
        Draw only this judge.
    title : str, optional
    max_labels : int
        Points are labelled with their system name when there are at most this many.

    Returns
    -------
    Axes
    """
    why = _check_frame(frame, ("system", "human_score", "judge_score"))
    if why:
        return _no_data(ax, why, title=title)
    df = pd.DataFrame({"judge": frame["judge"].map(str) if "judge" in frame.columns else "",
                       "system": frame["system"].map(str), "x": _nums(frame["human_score"]),
                       "y": _nums(frame["judge_score"])})
    has_ranks = {"human_rank", "judge_rank"} <= set(frame.columns)
    if has_ranks:
        df["rx"], df["ry"] = _nums(frame["human_rank"]), _nums(frame["judge_rank"])
    if judge is not None:
        df = df[df["judge"] == str(judge)]
    df = df[np.isfinite(df["x"]) & np.isfinite(df["y"])]
    if df.empty:
        return _no_data(ax, "no data" if judge is None else f"no data for {judge}", title=title)
    judges = _appearance(df["judge"])
    if ax is None:
        ax = new_figure(6.8, 4.6).add_subplot()
    handles = []
    label_points = len(df) <= max_labels
    for k, j in enumerate(judges):
        colour, marker = _series_style(k)
        part = df[df["judge"] == j]
        ax.scatter(part["x"], part["y"], s=40, marker=marker, color=colour, edgecolors="black", linewidths=0.5,
                   zorder=3)
        xs = part["x"].to_numpy(dtype=float)
        ys = part["y"].to_numpy(dtype=float)
        if np.unique(xs).size >= 2:
            slope, icpt = np.polyfit(xs, ys, 1)
            grid = np.array([xs.min(), xs.max()])
            ax.plot(grid, slope * grid + icpt, color=colour, linewidth=1.2, zorder=2)

        rho = _spearman(part["rx"].to_numpy(dtype=float), part["ry"].to_numpy(dtype=float)) if has_ranks \
            else _spearman(xs, ys)
        name = _text(j) if j else "systems"
        label = f"{name} (Spearman ρ = {rho:.2f})".replace("= -", "= −") if math.isfinite(rho) else name
        handles.append(Line2D([], [], color=colour, marker=marker, markeredgecolor="black", markeredgewidth=0.5,
                              label=label))
    if label_points:  # each system once, above its highest point (the human score is the same for all judges)
        mid = (float(df["x"].min()) + float(df["x"].max())) / 2
        top = df.sort_values("y", ascending=False, kind="stable").drop_duplicates(["system", "x"])
        top = top.iloc[np.argsort(top.index.to_numpy(), kind="stable")]
        for xv, yv, s in zip(top["x"], top["y"], top["system"], strict=True):
            right = xv > mid  # labels point inwards so they stay inside the axes
            ax.annotate(_text(s), (xv, yv), xytext=(-4 if right else 4, 3), textcoords="offset points",
                        fontsize=7, color="#333333", ha="right" if right else "left", zorder=4)
    lo = float(min(df["x"].min(), df["y"].min()))
    hi = float(max(df["x"].max(), df["y"].max()))
    pad = 0.06 * ((hi - lo) or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="#888888", linestyle="--", linewidth=0.9, zorder=1)
    handles.append(Line2D([], [], color="#888888", linestyle="--", linewidth=0.9, label="identity (y = x)"))
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("human score per system")
    ax.set_ylabel("judge score per system")
    ax.grid(color="#ececec", linewidth=0.6)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(_text(title))
    _legend_right(ax, handles)
    return ax


# ------------------------------------------------------------------------------------------------ saving
def _freeze_layout(fig: Figure) -> None:
    """Run the figure's layout engine once and then fix the positions.

    Constrained layout starts each draw from the previous positions, so a second save of the same figure
    can differ in the last digits; after freezing, every save of the figure gives the same bytes.
    """
    engine = fig.get_layout_engine()
    if engine is not None and type(engine).__name__ != "PlaceHolderLayoutEngine":
        fig.draw_without_rendering()
        fig.set_layout_engine("none")


def save_figure(fig: Figure, path: str | Path, *, dpi: float = 150) -> Path:
    """Save a figure as PDF, SVG or PNG (chosen by the suffix) so the same figure gives the same bytes.

    Time stamps and creator strings are left out and SVG ids use a fixed salt. A figure with a layout engine
    (constrained layout) has its layout computed once and then fixed, so later saves give the same bytes.
    Parent folders are made.

    Parameters
    ----------
    fig : Figure
    path : str or Path
        File name ending in ``.pdf``, ``.svg`` or ``.png``.
    dpi : float
        Resolution of PNG files.

    Returns
    -------
    Path
        The path written.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in _SAVE_METADATA:
        raise ValueError(f"cannot save figure as {path.name!r}: the suffix must be .pdf, .svg or .png.")
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    with _SAVE_LOCK, matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT, "svg.fonttype": "path",
                                            "pdf.fonttype": 42}):
        _freeze_layout(fig)
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=dict(_SAVE_METADATA[fmt]))
    path.write_bytes(buf.getvalue())
    return path


_SVG_ID = re.compile(r'\bid="([^"]+)"')


#: Above this many points, a scatter or line is drawn as an embedded PNG inside the SVG (text and axes stay
#: vector): a Bland–Altman plot of 20,000 items would otherwise add megabytes of SVG paths to the report.
DENSE_POINTS = 2000


def _rasterize_dense(fig: Figure) -> None:
    for ax in fig.axes:
        for coll in ax.collections:
            offsets = coll.get_offsets()
            if offsets is not None and len(offsets) > DENSE_POINTS:
                coll.set_rasterized(True)
        for line in ax.lines:
            if len(line.get_xdata()) > DENSE_POINTS:
                line.set_rasterized(True)


def figure_to_svg(fig: Figure, *, title: str | None = None, id_prefix: str = "") -> str:
    """The figure as an SVG string for inlining in HTML: deterministic, without XML prolog, doctype or
    RDF metadata.

    Parameters
    ----------
    fig : Figure
    title : str, optional
        Accessible name: written (escaped) as the SVG's ``<title>`` and ``aria-label``, with ``role="img"``.
    id_prefix : str
        Prefix for every ``id`` in the SVG (and the references to it), so that several SVGs can share one
        HTML page without id clashes. Letters, digits, ``-`` and ``_`` only.

    Returns
    -------
    str

    Examples
    --------
    >>> fig = new_figure(2, 2)
    >>> svg = figure_to_svg(fig, title="empty <figure>", id_prefix="f1-")
    >>> svg.startswith("<svg"), "<title>empty &lt;figure&gt;</title>" in svg, svg.rstrip().endswith("</svg>")
    (True, True, True)
    """
    if id_prefix and not re.fullmatch(r"[A-Za-z0-9_-]+", id_prefix):
        raise ValueError(f"id_prefix may hold only letters, digits, '-' and '_'; got {id_prefix!r}.")
    _rasterize_dense(fig)
    buf = io.BytesIO()
    with _SAVE_LOCK, matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT, "svg.fonttype": "path"}):
        _freeze_layout(fig)
        fig.savefig(buf, format="svg", metadata=dict(_SAVE_METADATA["svg"]))
    svg = buf.getvalue().decode("utf-8")
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.DOTALL)
    if id_prefix:
        ids = set(_SVG_ID.findall(svg))
        svg = _SVG_ID.sub(lambda m: f'id="{id_prefix}{m.group(1)}"', svg)
        svg = re.sub(r'(href="#|url\(#)([^")]+)',
                     lambda m: m.group(1) + (id_prefix + m.group(2) if m.group(2) in ids else m.group(2)), svg)
    if title is not None:
        from markupsafe import escape

        safe = str(escape(title))
        head_end = svg.index(">") + 1
        svg = (svg[: head_end - 1] + f' role="img" aria-label="{safe}">' + f"\n <title>{safe}</title>"
               + svg[head_end:])
    return svg.strip() + "\n"


# ------------------------------------------------------------------------------------------- leaderboard
def _leaderboard_rows(results: pd.DataFrame, metric: str, section: str, level: str | None) -> pd.DataFrame:
    df = results[(results["metric"].astype(str) == metric) & (results["section"].astype(str) == section)]
    if "slice" in df:
        df = df[df["slice"].fillna("all").astype(str) == "all"]
    if "level" in df and len(df):
        lv = level if level is not None else _default_level(df["level"])
        df = df[df["level"].fillna("item").astype(str) == lv]
    return df


def plot_leaderboard(
    results: pd.DataFrame,
    metric: str,
    ax: Axes | None = None,
    *,
    letters: Mapping[str, str] | None = None,
    level: str | None = None,
    title: str | None = None,
) -> Axes:
    """Leaderboard of the judges on one metric, beside the human ceiling and the null baselines.

    Judges are drawn top to bottom from the highest estimate to the lowest (blue circles with their
    confidence interval, agreement with the aggregated human reference); where the results have the judge
    scored against the leave-one-annotator-out references (section ``ceiling``), that estimate is drawn in
    the same row as a green diamond, because it is the number comparable with the human ceiling. The human
    ceiling (row ``human_ceiling`` of section ``ceiling``) is a hatched orange band over its confidence
    interval with a dashed line at its estimate. Null baselines follow the judges as purple triangles.
    Colour, marker and line style all differ, so the plot reads in grey scale.

    Parameters
    ----------
    results : DataFrame
        Rows with :data:`metajudge.results.RESULT_COLUMNS` (e.g. ``Analysis.results``).
    metric : str
        snake_case metric name (the headline metric of the report).
    ax : Axes, optional
        Where to draw; a new Figure is made when omitted.
    letters : mapping judge -> str, optional
        Significance groups (compact letter display) written after each judge's name.
    level : str, optional
        Correlation level (default: item, else dataset, group, system).
    title : str, optional

    Returns
    -------
    Axes

    Raises
    ------
    ValueError
        When no judge has a row for ``metric`` (slice "all").
    """
    if not isinstance(results, pd.DataFrame):
        raise TypeError(f"results must be a pandas DataFrame with RESULT_COLUMNS; got {type(results).__name__}.")
    missing = [c for c in ("section", "judge", "metric", "estimate", "ci_low", "ci_high") if c not in results]
    if missing:
        raise ValueError(f"results lack the column(s) {missing}; expected metajudge.results.RESULT_COLUMNS.")
    judges = _leaderboard_rows(results, metric, "agreement", level)
    if judges.empty:
        available = sorted(set(results.loc[results["section"].astype(str) == "agreement", "metric"].astype(str)))
        raise ValueError(f"no judge rows for metric {metric!r} (slice 'all') in results; metrics present: "
                         f"{available}.")
    est_j = pd.to_numeric(judges["estimate"], errors="coerce")
    judges = (judges.assign(_est=est_j.fillna(-np.inf), _name=judges["judge"].astype(str))
              .sort_values(["_est", "_name"], ascending=[False, True], kind="stable").reset_index(drop=True))
    ceiling = _leaderboard_rows(results, metric, "ceiling", level)
    loao = {str(r["judge"]): r for _, r in ceiling.iterrows()
            if str(r.get("rater_kind", "")) == "judge"}
    human = ceiling[ceiling["judge"].astype(str) == "human_ceiling"]
    baselines = _leaderboard_rows(results, metric, "baseline", level)
    if len(baselines):
        b_est = pd.to_numeric(baselines["estimate"], errors="coerce")
        baselines = (baselines.assign(_est=b_est.fillna(-np.inf), _name=baselines["judge"].astype(str))
                     .sort_values(["_est", "_name"], ascending=[False, True], kind="stable").reset_index(drop=True))

    letters = dict(letters or {})
    labels = []
    for name in judges["judge"].astype(str):
        lab = _wrap_label(name)
        if letters.get(name):
            lab += f"  [{letters[name]}]"
        labels.append(lab)
    labels += [_wrap_label(f"baseline: {b}") for b in baselines["judge"].astype(str)] if len(baselines) else []
    n_j, n = len(judges), len(labels)
    if ax is None:
        fig = new_figure(7.4, max(3.0, 2.3 + 0.42 * n))
        ax = fig.add_subplot()
    y = np.arange(n, dtype=float)
    finite: list[float] = []

    def nums(row: Any) -> tuple[float, float, float]:
        vals = [pd.to_numeric(row.get(c), errors="coerce") for c in ("estimate", "ci_low", "ci_high")]
        out = tuple(float(v) if v is not None and not _isnan(v) else math.nan for v in vals)
        finite.extend(v for v in out if math.isfinite(v))
        return out  # type: ignore[return-value]

    used: list[str] = []
    if len(human):
        h_est, h_lo, h_hi = nums(human.iloc[0])
        if math.isfinite(h_lo) and math.isfinite(h_hi):
            ax.axvspan(h_lo, h_hi, facecolor=matplotlib.colors.to_rgba(ROW_STYLES["human"][1], 0.18),
                       edgecolor=ROW_STYLES["human"][1], hatch="//", linewidth=0.6, zorder=0)
        if math.isfinite(h_est):
            ax.axvline(h_est, color=ROW_STYLES["human"][1], linestyle="--", linewidth=1.4, zorder=1)
            used.append("band")

    def draw(i: float, row: Any, kind: str, *, size: float = 7.0, hollow: bool = False, offset: float = 0.0) -> None:
        label, colour, marker = ROW_STYLES[kind]
        est, lo, hi = nums(row)
        yy = i + offset
        if math.isnan(est):
            ax.text(0.02, yy, "undefined", color=colour, ha="left", va="center", fontsize=8, fontstyle="italic",
                    transform=ax.get_yaxis_transform())
            return
        if kind not in used:
            used.append(kind)
        if math.isfinite(lo) and math.isfinite(hi):
            ax.hlines(yy, lo, hi, color=colour, linewidth=1.2 if hollow else 1.8,
                      linestyles="dotted" if hollow else "solid")
            ax.vlines([lo, hi], yy - 0.1, yy + 0.1, color=colour, linewidth=1.0)
        ax.plot([est], [yy], linestyle="none", marker=marker, markersize=size,
                color="white" if hollow else colour, markeredgecolor=colour if hollow else "black",
                markeredgewidth=1.4 if hollow else 0.6, zorder=3)

    for i, row in judges.iterrows():
        draw(float(i), row, "judge", offset=-0.12 if str(row["judge"]) in loao else 0.0)
        if str(row["judge"]) in loao:
            draw(float(i), loao[str(row["judge"])], "ceiling_judge", size=6.0, hollow=True, offset=0.18)
    for k, row in baselines.iterrows():
        draw(float(n_j + k), row, "baseline")

    if finite:
        lo_x, hi_x = float(min(min(finite), 0.0)), float(max(max(finite), 0.0))
        pad = 0.05 * ((hi_x - lo_x) or 1.0)
        ax.set_xlim(lo_x - pad, hi_x + pad)
    else:
        ax.set_xlim(-1.0, 1.0)
    ax.axvline(0.0, color="#999999", linewidth=0.8, linestyle=":", zorder=0)
    if len(baselines):
        ax.axhline(n_j - 0.5, color="#bbbbbb", linewidth=0.6)
    ax.set_yticks(y, labels=[_text(s) for s in labels])
    ax.set_ylim(n - 0.5, -0.5)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.6)
    ax.set_axisbelow(True)
    cl = judges["confidence_level"] if "confidence_level" in judges else pd.Series([], dtype=float)
    ax.set_xlabel(_text(f"{display_name(metric)}: estimate and {format_confidence(cl)}"))
    if title:
        ax.set_title(_text(title))
    names = {"judge": "judge vs aggregated humans", "ceiling_judge": "judge vs leave-one-out references",
             "baseline": "null baseline"}
    handles: list[Any] = []
    for k in ("judge", "ceiling_judge", "baseline"):
        if k in used:
            _, colour, marker = ROW_STYLES[k]
            hollow = k == "ceiling_judge"
            handles.append(Line2D([], [], linestyle=":" if hollow else "-", color=colour, marker=marker,
                                  markerfacecolor="white" if hollow else colour,
                                  markeredgecolor=colour if hollow else "black", label=names[k]))
    if "band" in used:
        handles.append(matplotlib.patches.Patch(facecolor=matplotlib.colors.to_rgba(ROW_STYLES["human"][1], 0.18),
                                                edgecolor=ROW_STYLES["human"][1], hatch="//",
                                                label="human ceiling (band: CI, dashed: estimate)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.16), ncol=2, frameon=False, fontsize=8)
    return ax
