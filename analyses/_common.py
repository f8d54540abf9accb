"""Shared plumbing of the study scripts in ``analyses/``: arguments, and CSV / LaTeX / figure writers.

Every study script runs as ``python analyses/<study>.py --data-dir DIR [-o OUTDIR]``; ``DIR`` is the study's
data folder (or a folder holding it under its usual name, e.g. ``../shared/realdata``), never assumed, and
``OUTDIR`` defaults to ``reports/analyses/<study>/``. Outputs are deterministic: the same data give the same
bytes.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def parser(study: str, doc: str | None, *, bootstrap: bool = False) -> argparse.ArgumentParser:
    """The standard arguments: ``--data-dir`` (required), ``-o/--output`` (default reports/analyses/<study>/),
    and with ``bootstrap`` ``--n-resamples`` (default 1000) and ``--seed`` (default 0)."""
    first = (doc or study).strip().splitlines()[0]
    ap = argparse.ArgumentParser(prog=f"analyses/{study}.py", description=first)
    ap.add_argument("--data-dir", type=Path, required=True,
                    help="folder holding the study's files (or a folder holding it under its usual name)")
    ap.add_argument("-o", "--output", type=Path, default=ROOT / "reports" / "analyses" / study,
                    help=f"output folder (default reports/analyses/{study}/)")
    if bootstrap:
        ap.add_argument("--n-resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
        ap.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    return ap


def data_folder(spec: Any, data_dir: Path) -> Path | None:
    """The study's folder under ``data_dir`` (see :func:`metajudge.goldsets.resolve_dir`), or ``None`` after
    printing why it is not there (the script then exits with 2)."""
    import sys

    from metajudge.goldsets import GoldSetError, resolve_dir

    try:
        return resolve_dir(spec, data_dir)
    except GoldSetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def write_csv(df: pd.DataFrame, path: Path, float_format: str = "%.10g") -> Path:
    """CSV with a fixed float format and ``\\n`` line ends (same data, same bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, float_format=float_format, lineterminator="\n")
    return path


def _cell(v: Any, digits: int) -> str:
    from metajudge.report.export import latex_escape

    if v is None:
        return "--"
    if isinstance(v, float):
        if math.isnan(v):
            return "--"
        return f"{v:.{digits}f}"
    return latex_escape(v)


def write_latex(df: pd.DataFrame, path: Path, *, caption: str, label: str, digits: int = 2,
                columns: Sequence[str] | None = None, headers: Sequence[str] | None = None) -> Path:
    """A booktabs ``table`` (every cell and header escaped; NaN shown as ``--``); compiles with pdflatex given
    ``\\usepackage{booktabs}``."""
    from metajudge.report.export import latex_escape

    cols = list(columns or df.columns)
    heads = list(headers or cols)
    align = "".join("r" if pd.api.types.is_numeric_dtype(df[c]) else "l" for c in cols)
    lines = ["\\begin{table}[t]", "\\centering", f"\\caption{{{latex_escape(caption)}}}",
             f"\\label{{{label}}}", f"\\begin{{tabular}}{{{align}}}", "\\toprule",
             " & ".join(latex_escape(h) for h in heads) + " \\\\", "\\midrule"]
    for row in df[cols].itertuples(index=False):
        lines.append(" & ".join(_cell(v if not hasattr(v, "item") else v.item(), digits) for v in row) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def save(fig: Any, out: Path, stem: str, formats: Sequence[str] = ("pdf", "svg")) -> list[Path]:
    """Save a figure as ``out/stem.<fmt>`` with metajudge's deterministic writer."""
    from metajudge.plots import save_figure

    return [save_figure(fig, out / f"{stem}.{fmt}") for fmt in formats]
