"""Rebuild the demo's paper figures and LaTeX tables from the Python API, as a paper's appendix would.

Simulates the bundled demo (:func:`metajudge.demo.simulate_demo`: a pointwise 1–5 task and a pairwise A/B/tie
task, no data downloaded), runs each task's config (:func:`metajudge.run_config`), and writes, per task:

- ``OUT/<task>/report/``: the HTML report, ``results.json`` and CSV tables (:func:`metajudge.write_report`);
- ``OUT/<task>/figures/<name>_<1col|2col>.<pdf|svg|png>``: every figure of the report at one-column
  (3.5 in) and two-column (7.16 in) width (:func:`metajudge.figures.write_figures`);
- ``OUT/<task>/tables/agreement.tex``, ``probes.tex``, ``leaderboard.tex``: booktabs tables
  (:func:`metajudge.figures.latex_tables`);

and ``OUT/appendix.tex``, a LaTeX document that sets all of them (``pdflatex appendix.tex`` in ``OUT``).
The same seed gives the same bytes; ``metajudge figures OUT/<task>/report`` rebuilds the figures and tables
from ``results.json`` alone.

Usage: ``python analyses/demo_figures.py [-o reports/analyses/demo_figures] [--seed 0] [--n-resamples 1000]
[--format pdf,svg,png] [--width both]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import metajudge as mj
from metajudge.demo import simulate_demo
from metajudge.figures import latex_tables, write_figures

ROOT = Path(__file__).resolve().parents[1]


def _appendix(out: Path, tasks: dict[str, dict[str, list[str]]]) -> str:
    lines = [
        r"\documentclass{article}",
        r"\usepackage[margin=1in]{geometry}",
        r"\usepackage{booktabs}",
        r"\usepackage{graphicx}",
        r"\begin{document}",
        r"\section*{Appendix: metajudge demo (simulated)}",
    ]
    for task, files in tasks.items():
        lines.append(rf"\subsection*{{{task.capitalize()} task}}")
        lines += [rf"\input{{{task}/tables/{name}}}" for name in files["tables"]]
        for stem in files["figures"]:
            lines += [r"\begin{figure}[htbp]", r"\centering",
                      rf"\includegraphics{{{task}/figures/{stem}_2col.pdf}}",
                      rf"\caption{{{task.capitalize()} task: {stem.replace('_', ' ')}.}}", r"\end{figure}"]
        lines.append(r"\clearpage")
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", type=Path, default=ROOT / "reports" / "analyses" / "demo_figures")
    ap.add_argument("--seed", type=int, default=0, help="seed of the simulation and the bootstrap")
    ap.add_argument("--n-resamples", type=int, default=None, help="bootstrap resamples (default: the config's)")
    ap.add_argument("--format", default="pdf,svg,png", help="figure formats, a comma list of pdf, svg, png")
    ap.add_argument("--width", default="both", choices=["one", "two", "both"], help="figure widths")
    args = ap.parse_args(argv)
    out: Path = args.out
    configs = simulate_demo(out / "data", seed=args.seed)
    done: dict[str, dict[str, list[str]]] = {}
    for task, cfg in configs.items():
        analysis = mj.run_config(cfg, seed=args.seed, n_resamples=args.n_resamples)
        mj.write_report(analysis, out / task / "report")
        figures = write_figures(analysis, out / task / "figures", formats=args.format, widths=args.width)
        tables = latex_tables(analysis)
        (out / task / "tables").mkdir(parents=True, exist_ok=True)
        for name, tex in tables.items():
            (out / task / "tables" / name).write_bytes(tex.encode("utf-8"))
        stems = list(dict.fromkeys(p.stem.rsplit("_", 1)[0] for p in figures.values()))
        done[task] = {"tables": list(tables), "figures": stems if "pdf" in args.format and
                      args.width in ("two", "both") else []}
        print(f"{task}: {len(figures)} figure files in {out / task / 'figures'}, "
              f"{len(tables)} tables in {out / task / 'tables'}")
    (out / "appendix.tex").write_bytes(_appendix(out, done).encode("utf-8"))
    print(f"wrote {out / 'appendix.tex'} (compile with: cd {out} && pdflatex appendix.tex)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
