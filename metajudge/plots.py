"""Figures: confusion-matrix heatmaps and forest plots of estimates with their confidence intervals.

Every plot function takes a tidy DataFrame and an optional Matplotlib ``ax``, draws on it and returns the
Axes; nothing is shown or saved. Figures are created with :class:`matplotlib.figure.Figure` directly
(with an Agg canvas), never through ``pyplot``, so plotting touches no global state and is safe in threads,
on CI machines and in servers. :func:`save_figure` and :func:`figure_to_svg` write byte-identical files for
identical figures.

Colours come from the Okabe–Ito palette (safe for the common colour-vision deficiencies) and every colour
is paired with a distinct marker, so the plots also read in grey scale.
"""

from __future__ import annotations

import io
import math
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import matplotlib
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
    "ROW_STYLES",
    "figure_to_svg",
    "new_figure",
    "plot_confusion",
    "plot_forest",
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

    n = len(df)
    if ax is None:
        fig = new_figure(7.0, max(2.4, 1.5 + 0.38 * n))
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
