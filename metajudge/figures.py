"""Paper figures and LaTeX tables of an :class:`~metajudge.results.Analysis` (``metajudge figures``).

Every figure of the HTML report (a forest plot per headline metric, a confusion matrix per judge, the plots
of the bias probes) is drawn again at the widths of a two-column paper: one column (3.5 in) and two columns
(7.16 in), the height scaled with the width (the report's aspect ratio, never flatter than
:data:`MIN_ASPECT`), with paper font sizes, constrained layout and TrueType (Type 42) fonts in PDF files.
Files are deterministic: no dates or creator strings, fixed SVG ids, so the same analysis gives the same
bytes. Tables are booktabs LaTeX with every string escaped (:func:`metajudge.report.latex_escape`).

>>> PAPER_WIDTHS["1col"], PAPER_WIDTHS["2col"]
(3.5, 7.16)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

from .report.export import leaderboard, leaderboard_to_latex, to_latex
from .results import Analysis

__all__ = [
    "FIGURE_FORMATS",
    "MIN_ASPECT",
    "PAPER_DPI",
    "PAPER_STYLES",
    "PAPER_WIDTHS",
    "TABLE_METRICS",
    "WIDTH_CHOICES",
    "latex_tables",
    "paper_figures",
    "write_figures",
    "write_paper",
    "write_tables_tex",
]

#: Figure widths in inches: one column and two columns (full text width) of a two-column paper.
PAPER_WIDTHS: dict[str, float] = {"1col": 3.5, "2col": 7.16}
#: ``--width`` choices of ``metajudge figures``.
WIDTH_CHOICES: dict[str, tuple[str, ...]] = {"one": ("1col",), "two": ("2col",), "both": ("1col", "2col")}
#: Formats ``metajudge figures`` writes.
FIGURE_FORMATS: tuple[str, ...] = ("pdf", "svg", "png")
#: Resolution of PNG files (pixels per inch): a 1-column PNG is 1050 pixels wide.
PAPER_DPI = 300
#: Smallest height / width of a paper figure (wide multi-panel plots would otherwise be too flat to read).
MIN_ASPECT = 0.5

_BASE_STYLE: dict[str, Any] = {
    "pdf.fonttype": 42,          # TrueType (Type 42) fonts, embedded: editable text, accepted by publishers
    "ps.fonttype": 42,
    "svg.fonttype": "path",
    "figure.constrained_layout.use": True,
    "savefig.bbox": None,        # the page is exactly the paper width (no tight bounding box)
    "savefig.pad_inches": 0.0,
    "axes.linewidth": 0.6,
    "grid.linewidth": 0.4,
    "lines.linewidth": 1.0,
    "lines.markersize": 4.0,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 2.5,
    "ytick.major.size": 2.5,
    "legend.frameon": False,
}
#: Matplotlib settings used while drawing each width (fonts in points, as printed).
PAPER_STYLES: dict[str, dict[str, Any]] = {
    "1col": {**_BASE_STYLE, "font.size": 7.0, "axes.titlesize": 7.5, "axes.labelsize": 7.0,
             "xtick.labelsize": 6.5, "ytick.labelsize": 6.5, "legend.fontsize": 6.5, "legend.title_fontsize": 6.5,
             "figure.titlesize": 8.0},
    "2col": {**_BASE_STYLE, "font.size": 8.0, "axes.titlesize": 8.5, "axes.labelsize": 8.0,
             "xtick.labelsize": 7.5, "ytick.labelsize": 7.5, "legend.fontsize": 7.5, "legend.title_fontsize": 7.5,
             "figure.titlesize": 9.0},
}


def _widths(widths: str | Iterable[str]) -> list[str]:
    keys: list[str] = []
    for w in [widths] if isinstance(widths, str) else list(widths):
        for k in WIDTH_CHOICES.get(str(w), (str(w),)):
            if k not in PAPER_WIDTHS:
                raise ValueError(f"unknown figure width {w!r}; use one, two, both, 1col or 2col.")
            if k not in keys:
                keys.append(k)
    return keys


def _formats(formats: str | Iterable[str]) -> list[str]:
    out: list[str] = []
    for f in [formats] if isinstance(formats, str) else list(formats):
        for part in str(f).split(","):
            part = part.strip().lower().lstrip(".")
            if not part:
                continue
            if part not in FIGURE_FORMATS:
                raise ValueError(f"unknown figure format {part!r}; use a comma list of {', '.join(FIGURE_FORMATS)}.")
            if part not in out:
                out.append(part)
    return out


def paper_figures(analysis: Analysis, width: str = "1col") -> list[tuple[str, str, Any]]:
    """The report's figures drawn at a paper width: ``[(name, alt text, Figure), ...]``.

    ``name`` is the report's figure name (``forest_<metric>``, ``confusion_<judge>``,
    ``probe_<probe>_<frame>``); ``width`` is ``"1col"`` or ``"2col"``. Each figure is drawn with
    :data:`PAPER_STYLES` in effect, then sized to :data:`PAPER_WIDTHS` with its height scaled in proportion
    (at least :data:`MIN_ASPECT` times the width), with constrained layout.
    """
    from .plots import _SAVE_LOCK
    from .report.html import _figures, headline_metrics

    (key,) = _widths(width)
    w = PAPER_WIDTHS[key]
    out = []
    with _SAVE_LOCK, matplotlib.rc_context(PAPER_STYLES[key]):
        for f in _figures(analysis, headline_metrics(analysis)):
            fig = f.figure
            w0, h0 = (float(v) for v in fig.get_size_inches())
            fig.set_size_inches(w, max(h0 * w / w0, MIN_ASPECT * w))
            if fig.get_layout_engine() is None:
                fig.set_layout_engine("constrained")
            _fit(fig, narrow=w < 5.0)
            out.append((f.name, f.alt, fig))
    return out


#: Longest line of a y tick label in a one-column figure (longer labels are wrapped, at most 3 lines).
NARROW_LABEL_CHARS = 26


def _fit(fig: Any, *, narrow: bool) -> None:
    """Fit a report figure to a paper width.

    Legends drawn below the axes (and, in a one-column figure, those drawn to their right) become one legend
    below the figure, in constrained layout's "outside" slot, entries merged in order and in as many columns
    as fit. In a one-column figure, axis labels and titles wider than the figure are wrapped, long y tick
    labels (judge names) are wrapped to :data:`NARROW_LABEL_CHARS` characters per line and, when the wrapped
    rows need more height than the proportional one, the figure is made taller.
    """
    import textwrap

    from matplotlib.text import Text

    cap = float(matplotlib.rcParams["axes.titlesize"]) if not isinstance(
        matplotlib.rcParams["axes.titlesize"], str) else float(matplotlib.rcParams["font.size"]) + 0.5
    if narrow:
        _restack(fig)
    moved: list[Any] = []
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is None:
            continue
        try:
            anchor = leg.get_bbox_to_anchor().transformed(ax.transAxes.inverted())
        except Exception:  # noqa: BLE001 - an unusual legend stays where it is
            continue
        if anchor.y1 <= 0.0 or (narrow and anchor.x0 >= 1.0):
            moved.append(leg)
    moved += [leg for leg in list(fig.legends) if narrow]
    handles: list[Any] = []
    labels: list[str] = []
    title = ""
    font = None
    for leg in moved:
        for h, t in zip(leg.legend_handles, leg.get_texts(), strict=False):
            text = t.get_text()
            if text not in labels:
                handles.append(h)
                labels.append(text)
                font = font or t.get_fontsize()
        title = title or leg.get_title().get_text()
        leg.remove()
    for text in fig.findobj(Text):  # explicit sizes made for the report's larger figures
        if text.get_fontsize() > cap:
            text.set_fontsize(cap)
    if handles:
        size = min(float(font) if font else float(matplotlib.rcParams["font.size"]),
                   float(matplotlib.rcParams["font.size"]))
        col_w = max(len(t) for t in labels) * size * 0.5 / 72 + 0.4  # text + handle, inches
        width, height = (float(v) for v in fig.get_size_inches())
        ncols = max(1, min(len(labels), int(0.95 * width // col_w)))
        fig.legend(handles, labels, loc="outside lower center", ncols=ncols, frameon=False, fontsize=size,
                   title=title or None, title_fontsize=size)
        legend_h = (-(-len(labels) // ncols) + (1 if title else 0)) * size * 1.6 / 72
        # the legend below must not squeeze the plot: keep at least 0.42 x width for the axes
        if height < legend_h + 0.7 + 0.42 * width:
            fig.set_size_inches(width, legend_h + 0.7 + 0.42 * width)
    else:
        legend_h = 0.0
    if not narrow:
        return
    fig_w, fig_h = (float(v) for v in fig.get_size_inches())
    for ax in fig.axes:
        for get, set_ in ((ax.get_xlabel, ax.set_xlabel), (ax.get_title, ax.set_title)):
            text = get()
            size = float(ax.xaxis.label.get_fontsize() if get == ax.get_xlabel else ax.title.get_fontsize())
            chars = int(0.6 * fig_w * 72 / (size * 0.55))
            if text and "\n" not in text and len(text) > chars:
                set_("\n".join(textwrap.wrap(text, width=chars, break_on_hyphens=False)))
    for ax in fig.axes:
        ticks = list(ax.get_yticks())
        texts = ax.get_yticklabels()
        names = [t.get_text() for t in texts]
        if len(names) != len(ticks) or not any(len(line) > NARROW_LABEL_CHARS for s in names for line in s.split("\n")):
            continue
        wrapped = []
        for s in names:
            lines = textwrap.wrap(" ".join(s.split()), width=NARROW_LABEL_CHARS, break_long_words=True,
                                  break_on_hyphens=False) or [""]
            if len(lines) > 3:
                lines = [*lines[:2], lines[2][: NARROW_LABEL_CHARS - 1].rstrip() + "…"]
            wrapped.append("\n".join(lines))
        size = float(texts[0].get_fontsize()) if texts else float(matplotlib.rcParams["ytick.labelsize"])
        ax.set_yticks(ticks, labels=wrapped, fontsize=size)
        # rows whose labels now take several lines need more height than the proportional one
        lines = sum(max(1, w.count("\n") + 1) for w in wrapped)
        needed = (1.25 * lines + 0.7 * len(wrapped)) * size / 72 + 0.8 + legend_h
        if needed > fig_h and len(fig.axes) <= 2:
            fig_h = needed
            fig.set_size_inches(fig_w, fig_h)


def _restack(fig: Any) -> None:
    """Panels side by side (one row of a grid, as the Bland–Altman and self-preference plots draw one panel
    per judge or metric) are put one above the other, each at the full width, for a one-column figure."""
    from matplotlib.gridspec import GridSpec

    axes = [ax for ax in fig.axes if ax.get_visible()]
    specs = [ax.get_subplotspec() for ax in axes]
    if len(axes) < 2 or any(sp is None for sp in specs):
        return
    grid = specs[0].get_gridspec()
    nrows, ncols = grid.get_geometry()
    if ncols < 2 or any(sp.get_gridspec() is not grid for sp in specs):
        return
    if any(sp.rowspan.stop - sp.rowspan.start != 1 or sp.colspan.stop - sp.colspan.start != 1 for sp in specs):
        return
    w0, h0 = (float(v) for v in fig.get_size_inches())
    order = sorted(range(len(axes)), key=lambda k: (specs[k].rowspan.start, specs[k].colspan.start))
    new = GridSpec(len(axes), 1, figure=fig)
    ylabel = next((axes[k].get_ylabel() for k in order if axes[k].get_ylabel()), "")
    for row, k in enumerate(order):
        axes[k].set_subplotspec(new[row, 0])
        if ylabel and not axes[k].get_ylabel():
            axes[k].set_ylabel(ylabel)
        axes[k].tick_params(axis="y", labelleft=True)  # shared y axes hid them beside the first panel
    # the report's panels were (w0 / ncols) wide; keep their aspect at the new width (0.45 to 0.6)
    panel = min(max((h0 / nrows) / (w0 / ncols), 0.45), 0.6) * w0
    fig.set_size_inches(w0, panel * len(axes) + 0.6)


def write_figures(analysis: Analysis, out_dir: str | Path, *, formats: str | Iterable[str] = FIGURE_FORMATS,
                  widths: str | Iterable[str] = "both", dpi: float = PAPER_DPI) -> dict[str, Path]:
    """Write every figure as ``out_dir/<name>_<1col|2col>.<format>``.

    Parameters
    ----------
    analysis : Analysis
    out_dir : str or Path
        Made if missing.
    formats : str or iterable of str
        Some of ``pdf``, ``svg``, ``png`` (a comma list is accepted).
    widths : str or iterable of str
        ``one``, ``two``, ``both`` (default), or ``1col`` / ``2col``.
    dpi : float
        Resolution of the PNG files (and of the text metrics the layout is computed with).

    Returns
    -------
    dict of str to Path
        The files written, by file name, in the order written.
    """
    from .plots import _SAVE_LOCK, save_figure

    fmts = _formats(formats)
    if not fmts:
        raise ValueError("no figure format given; use a comma list of pdf, svg, png.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for key in _widths(widths):
        with _SAVE_LOCK, matplotlib.rc_context(PAPER_STYLES[key]):
            for name, _alt, fig in paper_figures(analysis, key):
                fig.set_dpi(dpi)  # the layout is computed (once, then frozen) with the text metrics of this dpi
                for fmt in fmts:
                    p = save_figure(fig, out / f"{name}_{key}.{fmt}", dpi=dpi)
                    written[p.name] = p
    return written


# -------------------------------------------------------------------------------------------- tables
#: Metrics preferred for the columns of ``agreement.tex`` after the headline metric, in this order.
TABLE_METRICS: tuple[str, ...] = (
    "percent_agreement", "accuracy", "cohen_kappa", "cohen_kappa_quadratic", "krippendorff_alpha_nominal",
    "krippendorff_alpha_ordinal", "krippendorff_alpha_interval", "gwet_ac1", "balanced_accuracy", "f1", "mcc",
    "spearman", "pearson", "kendall_tau",
)


def _agreement_metrics(analysis: Analysis, limit: int = 3) -> list[str]:
    """The headline metric(s) of the report, then :data:`TABLE_METRICS`, that the judges have (at most
    ``limit``)."""
    from .report.html import headline_metrics

    res = analysis.results
    rows = res[(res["section"].astype(str) == "agreement") & (res["slice"].fillna("all").astype(str) == "all")
               & (res["level"].fillna("item").astype(str).replace("", "item") == "item")]
    present = list(dict.fromkeys(rows["metric"].astype(str)))
    picked = [m for m in headline_metrics(analysis) if m in present]
    picked += [m for m in TABLE_METRICS if m in present and m not in picked]
    picked += [m for m in present if m not in picked]
    return picked[:limit]


def _paper_rows(results: Any) -> Any:
    """Rows of ``agreement.tex``: the judges, the human ceiling itself (``human_ceiling``, and the humans'
    agreement with each other) and each judge against the same leave-one-out references, and the null
    baselines; at item level. The ceiling on each judge's subset of items and the per-annotator rows stay
    in ``tables/ceiling.csv``. The ceiling rows' reference is in the group title, so it is not repeated."""
    res = results
    sec = res["section"].astype(str)
    judge = res["judge"].astype(str)
    kind = res["rater_kind"].astype(str)
    level = res["level"].fillna("item").astype(str).replace("", "item")
    ceiling = (sec == "ceiling") & ((judge == "human_ceiling") | (judge == "humans") | (kind == "judge"))
    keep = (sec.isin(["agreement", "baseline"]) | ceiling) & (level == "item")
    part = res[keep].copy()
    in_ceiling = part["section"].astype(str) == "ceiling"
    part.loc[in_ceiling & (part["judge"].astype(str) != "humans"), "reference"] = ""
    part.loc[in_ceiling & (part["judge"].astype(str) == "human_ceiling"), "judge"] = "human ceiling"
    return part


def _small(tex: str) -> str:
    return tex.replace("\\centering\n", "\\centering\n\\small\n", 1)


def latex_tables(analysis: Analysis, *, label_prefix: str = "tab:") -> dict[str, str]:
    """The paper tables of an analysis as LaTeX (booktabs; every string escaped), by file name.

    ``agreement.tex``: judges, human ceiling and null baselines (:func:`_paper_rows`) by the main agreement
    metrics (at most three, headline first), estimate and CI; ``probes.tex`` (when bias probes ran): one row per judge and probe
    metric with its CI, adjusted p-value and n; ``leaderboard.tex``: the judges ranked by the headline
    metric, with the human ceiling. Tables are set in ``\\small``; each needs ``\\usepackage{booktabs}`` only.
    """
    from .report.export import format_confidence

    title = str(analysis.title)
    res = analysis.results
    tables: dict[str, str] = {}
    metrics = _agreement_metrics(analysis)
    head = "% written by metajudge; needs \\usepackage{booktabs}\n"
    if metrics:
        part = _paper_rows(res)
        ci = format_confidence(part.loc[part["metric"].isin(metrics), "confidence_level"])
        tables["agreement.tex"] = head + to_latex(
            part, metrics=metrics, sections=["agreement", "ceiling", "baseline"],
            caption=f"{title}: agreement with the human labels (estimate and {ci}).",
            label=f"{label_prefix}agreement")
    probes = res[res["section"].astype(str) == "probe"]
    if len(probes):
        extra = analysis.extra if isinstance(analysis.extra, Mapping) else {}
        method = str(extra.get("p_adjust_method") or "Holm")
        tables["probes.tex"] = head + to_latex(
            probes, sections=["probe"], layout="long", p_label=f"p ({method})",
            caption=f"{title}: bias probes (estimate, {format_confidence(probes['confidence_level'])}, "
                    f"{method}-adjusted p-value).",
            label=f"{label_prefix}probes")
    try:
        board = leaderboard(analysis)
    except ValueError:
        board = None
    if board is not None and len(board):
        tables["leaderboard.tex"] = head + leaderboard_to_latex(
            board, caption=f"{title}: judges ranked by agreement with the human labels.",
            label=f"{label_prefix}leaderboard")
    return {name: _small(tex) for name, tex in tables.items()}


def write_tables_tex(analysis: Analysis, out_dir: str | Path) -> dict[str, Path]:
    """Write :func:`latex_tables` under ``out_dir``; return the files by name."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, tex in latex_tables(analysis).items():
        p = out / name
        p.write_bytes(tex.encode("utf-8"))
        written[name] = p
    return written


def write_paper(analysis: Analysis, out_dir: str | Path, *, formats: str | Sequence[str] = FIGURE_FORMATS,
                widths: str | Iterable[str] = "both", dpi: float = PAPER_DPI) -> dict[str, Path]:
    """:func:`write_figures` and :func:`write_tables_tex` into one folder (what ``metajudge figures`` does)."""
    written = write_figures(analysis, out_dir, formats=formats, widths=widths, dpi=dpi)
    written.update(write_tables_tex(analysis, out_dir))
    return written
