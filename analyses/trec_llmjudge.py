"""TREC DL 2023 LLMJudge: agreement and leniency of the 33 LLM relevance labelers with the NIST assessors.

Reads the staged LLMJudge files through the ``trec_llmjudge`` gold-set adapter (``--data-dir`` is the
``trec_llmjudge`` folder or a folder holding it) and runs metajudge on them: one judge per submitted run, one
item per (query, passage) pair, the NIST label as the only human rater, the 0-3 scale declared ordinal.

Writes to OUTDIR (default ``reports/analyses/trec_llmjudge/``):

- ``table.csv`` (and ``table.tex``): one row per run, then the human-ceiling row and the null baselines.
  Columns ``rater, kind, n, out_of_scale, percent_agreement, cohen_kappa, cohen_kappa_ci_low,
  cohen_kappa_ci_high, cohen_kappa_quadratic, cohen_kappa_quadratic_ci_low, cohen_kappa_quadratic_ci_high,
  krippendorff_alpha_ordinal, krippendorff_alpha_ordinal_ci_low, krippendorff_alpha_ordinal_ci_high,
  cohen_kappa_binary, kendall_tau_group, leniency_shift, system_rank_kendall, note``. ``cohen_kappa_binary`` is
  κ after binarising both sides at relevant = label >= 2 (the TREC DL convention); ``kendall_tau_group`` is
  Kendall τ-b per query, averaged over the 25 queries; ``leniency_shift`` is mean(run − NIST).
- ``published.csv``: per run and binarisation (``graded``, ``0|123``, ``01|23``, ``012|3``) the value the
  benchmark's notebook printed (``published``, NaN for the runs its printed table elides), the same
  computation redone (``recomputed``) and Cohen's κ on the same labels (``cohen_kappa``); see below.
- ``agreement.csv`` and ``probes.csv``: metajudge's own tidy result rows (agreement, ceiling and baseline
  sections; the leniency probe: shift, Bland–Altman limits, Stuart–Maxwell χ²).
- ``forest.pdf`` / ``forest.svg``: quadratic κ of every run with its 95% interval, sorted.

Conventions.

- *Human ceiling.* Every pair was judged by one NIST assessor, so neither inter-annotator agreement nor the
  leave-one-annotator-out ceiling can be computed: the ceiling row is NaN with that note (never a number).
- *Labels outside 0-3* (RMITIR-llama70B: two "5", h2oloo-zeroshot2: one "10"). metajudge counts them and
  leaves those pairs out of the run's estimates (default ``--out-of-scale exclude``); the LLMJudge notebook
  clips them to 3 (``--out-of-scale clip`` applies that to every table). ``published.csv`` always uses the
  notebook's convention, since it reproduces the notebook.
- *The published numbers.* The LLMJudge-benchmark repository's ``codes/0-corr-analysis.ipynb`` (commit
  86f57f60606ac1d269f535528c11cfeda9d4758d) prints per run four numbers under the headers "krippendorff",
  "kappa 0|123", "kappa 01|23" and "kappa 012|3". The code computes Krippendorff's α (ordinal, value domain
  0-3) in all four (its ``cohen_kappa_score`` line is commented out): on the graded labels, then on labels
  binarised at >= 1, >= 2 and >= 3. The three "kappa" columns are therefore α, not κ; ``published.csv`` shows
  the α recomputed (it matches to 6 decimals) beside the κ the header promises. On binary labels α and κ
  differ only in the chance term (α pools the two raters' marginals, like Scott's π).
- *System-ranking Kendall τ* (the challenge's second metric: how the runs' qrels rank the TREC DL 2023
  retrieval systems) needs the track's retrieval runs, which are not part of the data: NaN with a note.

Bootstrap: item (pair) resampling, ``--n-resamples`` (default 1000) and ``--seed`` (default 0).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from _common import parser, save, write_csv, write_latex  # noqa: E402

STUDY = "trec_llmjudge"
LEVELS = [0, 1, 2, 3]
#: codes/0-corr-analysis.ipynb, output of cell 6 (the rows it prints; the middle 54 of 64 rows are elided):
#: run -> (graded, >=1, >=2, >=3), all Krippendorff's α (ordinal, value domain 0-3).
PUBLISHED = {
    "h2oloo-fewself": (0.495764, 0.410792, 0.428016, 0.297844),
    "h2oloo-zeroshot1": (0.481175, 0.405772, 0.385039, 0.306258),
    "h2oloo-zeroshot2": (0.389818, 0.341810, 0.317459, 0.276929),
    "TREMA-rubric0": (0.103604, 0.117231, -0.089472, 0.016718),
    "TREMA-sumdecompose": (0.392616, 0.313767, 0.343022, 0.199542),
    "willia-umbrela1": (0.491793, 0.412928, 0.393941, 0.312438),
    "willia-umbrela2": (0.455608, 0.396124, 0.329797, 0.319274),
    "willia-umbrela3": (0.453547, 0.396488, 0.331441, 0.318456),
}
VARIANTS = (("graded", None), ("0|123", 1), ("01|23", 2), ("012|3", 3))
CEILING_NOTE = ("undefined: one NIST assessor per pair, so there is no second annotator to hold out (the "
                "leave-one-annotator-out ceiling needs two or more per item)")
SYSTEM_NOTE = ("system-ranking Kendall tau not computed: it needs the TREC DL 2023 retrieval runs, which the "
               "data do not include")
TABLE_COLUMNS = ["rater", "kind", "n", "out_of_scale", "percent_agreement", "cohen_kappa", "cohen_kappa_ci_low",
                 "cohen_kappa_ci_high", "cohen_kappa_quadratic", "cohen_kappa_quadratic_ci_low",
                 "cohen_kappa_quadratic_ci_high", "krippendorff_alpha_ordinal", "krippendorff_alpha_ordinal_ci_low",
                 "krippendorff_alpha_ordinal_ci_high", "cohen_kappa_binary", "kendall_tau_group", "leniency_shift",
                 "system_rank_kendall", "note"]
PUBLISHED_COLUMNS = ["run", "variant", "threshold", "published", "recomputed", "cohen_kappa", "n", "note"]


def _value(res: pd.DataFrame, judge: str, metric: str, *, section: str = "agreement", level: str = "item",
           what: str = "estimate") -> float:
    sel = res[(res["section"] == section) & (res["judge"] == judge) & (res["metric"] == metric)
              & (res["level"] == level) & (res["slice"] == "all")]
    return float(sel[what].iloc[0]) if len(sel) else float("nan")


def _rows(res: pd.DataFrame, names: list[str], kind: str, section: str, binary: pd.DataFrame,
          coverage: pd.DataFrame) -> list[dict]:
    out = []
    cov = coverage.set_index("source")
    for name in names:
        row: dict = {"rater": name, "kind": kind}
        sel = res[(res["section"] == section) & (res["judge"] == name) & (res["metric"] == "cohen_kappa")]
        row["n"] = int(sel["n"].iloc[0]) if len(sel) else 0
        row["out_of_scale"] = int(cov.loc[name, "out_of_scale"]) if name in cov.index else 0
        row["percent_agreement"] = _value(res, name, "percent_agreement", section=section)
        for m in ("cohen_kappa", "cohen_kappa_quadratic", "krippendorff_alpha_ordinal"):
            row[m] = _value(res, name, m, section=section)
            row[f"{m}_ci_low"] = _value(res, name, m, section=section, what="ci_low")
            row[f"{m}_ci_high"] = _value(res, name, m, section=section, what="ci_high")
        row["cohen_kappa_binary"] = _value(binary, name, "cohen_kappa", section=section)
        row["kendall_tau_group"] = (_value(res, name, "kendall_tau", level="group") if section == "agreement"
                                    else float("nan"))
        row["leniency_shift"] = (_value(res, name, "leniency_shift", section="probe") if section == "agreement"
                                 else float("nan"))
        row["system_rank_kendall"] = float("nan")
        row["note"] = SYSTEM_NOTE if section == "agreement" else "null baseline: one seeded random draw" \
            if name.startswith("random") else "null baseline"
        out.append(row)
    return out


def published_table(folder: Path, runs: list[str]) -> pd.DataFrame:
    """The LLMJudge notebook's computation (labels clipped to 0-3, ordinal α with value domain 0-3, graded and
    binarised at 1/2/3) redone with metajudge's metrics, beside the printed values and Cohen's κ."""
    import metajudge as mj
    from metajudge.goldsets.trec import WIDE, clip_labels

    wide = pd.read_csv(folder / WIDE, dtype={"qid": str, "docid": str})
    human = wide["human"].astype(int)
    rows = []
    for run in runs:
        lab, n_clip = clip_labels(wide[run])
        for i, (variant, th) in enumerate(VARIANTS):
            h = human if th is None else (human >= th).astype(int)
            j = lab.astype(int) if th is None else (lab >= th).astype(int)
            alpha = mj.krippendorff_alpha(np.column_stack([h, j]), level="ordinal", levels=LEVELS,
                                          n_resamples=0).estimate
            kappa = mj.cohen_kappa(h, j, levels=LEVELS if th is None else [0, 1], n_resamples=0).estimate
            pub = PUBLISHED.get(run, (np.nan,) * 4)[i]
            note = "the notebook labels this column 'kappa' but computes Krippendorff's alpha" if th else ""
            if run not in PUBLISHED:
                note = "; ".join(x for x in [note, "not in the notebook's printed rows"] if x)
            if n_clip:
                note = "; ".join(x for x in [note, f"{n_clip} label(s) outside 0-3 clipped"] if x)
            rows.append({"run": run, "variant": variant, "threshold": float("nan") if th is None else th,
                         "published": pub, "recomputed": alpha, "cohen_kappa": kappa, "n": len(h), "note": note})
    return pd.DataFrame(rows, columns=PUBLISHED_COLUMNS)


def _figure(table: pd.DataFrame, out: Path) -> list[Path]:
    from metajudge.plots import new_figure

    runs = table[table["kind"] == "judge"].sort_values("cohen_kappa_quadratic")
    base = table[table["kind"] == "baseline"]
    fig = new_figure(6.4, 8.0)
    ax = fig.add_subplot()
    y = np.arange(len(runs))
    est = runs["cohen_kappa_quadratic"].to_numpy()
    err = np.vstack([est - runs["cohen_kappa_quadratic_ci_low"].to_numpy(),
                     runs["cohen_kappa_quadratic_ci_high"].to_numpy() - est])
    ax.errorbar(est, y, xerr=err, fmt="o", color="#1f4e79", ms=4, capsize=2, label="run (95% CI)")
    for name, ls in zip(base["rater"], ("--", ":", "-.")):
        ax.axvline(float(base.loc[base["rater"] == name, "cohen_kappa_quadratic"].iloc[0]), color="#888888",
                   ls=ls, lw=1, label=f"baseline: {name}")
    ax.set_yticks(y, runs["rater"].tolist(), fontsize=7)
    ax.set_xlabel("Cohen's κ (quadratic) with the NIST labels")
    ax.set_title("TREC DL 2023 LLMJudge runs vs NIST (human ceiling undefined: one assessor per pair)",
                 fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    return save(fig, out, "forest")


def main(argv: list[str] | None = None) -> int:
    ap = parser(STUDY, __doc__, bootstrap=True)
    ap.add_argument("--out-of-scale", choices=["exclude", "clip"], default="exclude",
                    help="run labels outside 0-3: exclude (metajudge's default) or clip (the LLMJudge notebook)")
    args = ap.parse_args(argv)

    from metajudge.goldsets import run_gold_set
    from metajudge.goldsets import trec as adapter  # importing registers the adapter

    opts = {"out_of_scale": args.out_of_scale}
    analysis = run_gold_set(adapter.SPEC.name, args.data_dir, options=opts, seed=args.seed, n_resamples=args.n_resamples,
                            compare_judges=False, probes=None)
    binary = run_gold_set(STUDY, args.data_dir, options={**opts, "scale": "binary"}, seed=args.seed,
                          n_resamples=0, compare_judges=False, probes=[]).results
    res = analysis.results
    runs = [j for j in analysis.coverage["source"] if j != "gold"]
    baselines = sorted(res.loc[res["section"] == "baseline", "judge"].unique())
    rows = _rows(res, runs, "judge", "agreement", binary, analysis.coverage)
    rows.append({"rater": "human_ceiling", "kind": "human", "n": 0, "out_of_scale": 0, "note": CEILING_NOTE,
                 **{c: float("nan") for c in TABLE_COLUMNS[4:-1]}})
    rows += _rows(res, baselines, "baseline", "baseline", binary, analysis.coverage)
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(table, out / "table.csv")
    write_csv(res[res["section"].isin(["agreement", "ceiling", "baseline"])], out / "agreement.csv")
    write_csv(res[res["section"] == "probe"], out / "probes.csv")
    folder = analysis.provenance.get("data_dir") or args.data_dir
    pub = published_table(Path(folder), runs)
    write_csv(pub, out / "published.csv")
    write_latex(table, out / "table.tex",
                caption="TREC DL 2023 LLMJudge: agreement of each run with the NIST labels (0-3; 95% bootstrap "
                        "intervals in table.csv). The human ceiling is undefined: one assessor per pair.",
                label="tab:trec-llmjudge",
                columns=["rater", "n", "percent_agreement", "cohen_kappa", "cohen_kappa_quadratic",
                         "krippendorff_alpha_ordinal", "cohen_kappa_binary", "kendall_tau_group",
                         "leniency_shift"],
                headers=["Run", "n", "Agreement", "κ", "κ (quadratic)", "α (ordinal)", "κ (rel ≥ 2)",
                         "τ per query", "Shift"], digits=3)
    _figure(table, out)

    judges = table[table["kind"] == "judge"]
    best = judges.sort_values("cohen_kappa_quadratic", ascending=False).head(3)
    matched = pub.dropna(subset=["published"])
    print(f"{len(judges)} runs vs NIST on {int(judges['n'].max()):,} pairs; human ceiling: undefined (one assessor)")
    print("top quadratic κ: " + ", ".join(f"{r} {v:.3f}" for r, v in zip(best["rater"], best["cohen_kappa_quadratic"])))
    print(f"median κ {judges['cohen_kappa'].median():.3f}, median quadratic κ "
          f"{judges['cohen_kappa_quadratic'].median():.3f}")
    close = int(((matched["published"] - matched["recomputed"]).abs() <= 5e-7).sum())
    print(f"notebook values reproduced to 6 decimals: {close} of {len(matched)} (its 'kappa' columns hold α; "
          f"Cohen's κ beside them in published.csv)")
    print(f"wrote {out}/table.csv, table.tex, published.csv, agreement.csv, probes.csv, forest.pdf/.svg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
