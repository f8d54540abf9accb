"""Agreement of the 33 LLMJudge relevance labelers with NIST assessors (TREC DL 2023 passages, 0–3 scale).

Reads ``trec_llmjudge/llm_vs_human_labels_wide.csv`` from the real-data folder (default
``../shared/realdata`` beside the checkout), runs one metajudge analysis with every run as a judge (items are
(qid, docid) pairs; labels outside 0–3 are counted as out of scale, not dropped silently), and writes
``OUT/report.html``, ``OUT/results.json``, ``OUT/tables/*.csv``, ``OUT/agreement.tex`` and
``OUT/figures/forest.{pdf,svg}``.

Usage: ``python analyses/trec_llmjudge_agreement.py [--data DIR] [--out reports/trec] [--n-resamples 1000]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

import metajudge as mj
from metajudge.config import config_from_dict
from metajudge.plots import new_figure, plot_forest, save_figure
from metajudge.report import to_latex

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "realdata")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "trec")
    ap.add_argument("--n-resamples", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    csv = (args.data / "trec_llmjudge" / "llm_vs_human_labels_wide.csv").resolve()
    runs = [c for c in pd.read_csv(csv, nrows=0).columns if c not in ("qid", "docid", "human")]
    cfg = config_from_dict({
        "title": "TREC DL 2023 LLMJudge: LLM relevance labels vs NIST assessors",
        "scale": {"kind": "ordinal", "levels": [0, 1, 2, 3]},
        "gold": {"path": str(csv), "layout": "wide", "raters": ["human"],
                 "columns": {"item": ["qid", "docid"], "group": "qid"}},
        "judges": [{"name": r, "path": str(csv), "columns": {"item": ["qid", "docid"], "label": r}} for r in runs],
        "metrics": ["percent_agreement", "cohen_kappa", "cohen_kappa_quadratic", "krippendorff_alpha_ordinal"],
        "compare_judges": False,
        "bootstrap": {"n_resamples": args.n_resamples, "seed": args.seed},
    })
    analysis = mj.run(cfg, quiet=False)
    mj.write_report(analysis, args.out)
    agreement = analysis.agreement
    (args.out / "agreement.tex").write_text(
        to_latex(agreement, metrics=["cohen_kappa", "cohen_kappa_quadratic", "krippendorff_alpha_ordinal"],
                 caption="Agreement of LLMJudge runs with NIST labels (95% bootstrap CI).", label="tab:trec"),
        encoding="utf-8")
    fig = new_figure(7, 9)
    plot_forest(analysis.results, "cohen_kappa_quadratic", ax=fig.add_subplot())
    for ext in ("pdf", "svg"):
        save_figure(fig, args.out / "figures" / f"forest.{ext}")
    best = (agreement.query("metric == 'cohen_kappa_quadratic' and slice == 'all'")
            .sort_values("estimate", ascending=False).head(5))
    print(best[["judge", "estimate", "ci_low", "ci_high"]].to_string(index=False))
    print(f"wrote {args.out}/report.html, agreement.tex, figures/forest.pdf")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
