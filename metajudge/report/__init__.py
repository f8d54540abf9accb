"""Reports and exports of an :class:`~metajudge.results.Analysis`.

- :func:`write_report` / :func:`render_html`: one self-contained HTML file (inline CSS and SVG, escaped data,
  embedded results JSON), plus ``results.json``, CSV tables and figure files.
- :func:`results_to_json` / :func:`write_json`: the machine-readable results.
- :func:`write_tables`: CSV tables; :func:`to_latex`: a booktabs table for papers.
"""

from __future__ import annotations

from .export import latex_escape, results_to_json, safe_filename, to_latex, write_json, write_tables
from .html import render_html, write_report

__all__ = [
    "latex_escape",
    "render_html",
    "results_to_json",
    "safe_filename",
    "to_latex",
    "write_json",
    "write_report",
    "write_tables",
]
