"""Shi et al. (2024) position-bias repetition study: consistency per run, the authors' count and METRICS.md's.

Reads ``position_bias_shi2024/repetition_judgments.parquet`` through the registered adapter
(:mod:`metajudge.goldsets.shi2024`) and, for every run (benchmark × judge × repetition), reports:

- ``consistent`` / ``total`` / ``rate_authors``: the authors' own count, the one their run logs print ("83 out of
  143 answers are consistent ... The consistent rate is 58.04%"): **rows** (single verdicts) whose pair is
  consistent, over all extracted rows of the run. Their convention counts a row whose mirror (same question and
  pair, other order) was not extracted as consistent; here that is the position probe's named option
  ``missing_mirror=consistent`` (rows = 2 × consistent pairs − missing mirrors), not a re-implementation;
- ``position_consistency`` and ``preference_fairness`` as METRICS.md §5 defines them, over (first run, swapped
  run) **pairs** of one repetition: PC = #consistent / #classified, PF = (#recency − #primacy) / #classified.
  By default a run without its mirror is left out (``--missing-mirror exclude``, metajudge's default); with
  ``--missing-mirror consistent`` these two columns follow the authors' convention too.

Outputs in OUTDIR: ``table.csv`` (columns ``benchmark, judge, repetition, consistent, total, rate_authors,
position_consistency, preference_fairness``), ``pairs.csv`` (the pair counts and the 95% intervals behind the
two metrics), ``table.tex`` and ``figure.{pdf,svg}`` (position consistency per judge and repetition, with the
authors' rate beside it).

Usage: ``python analyses/position_bias_shi2024.py --data-dir ../shared/realdata [-o OUTDIR] [--missing-mirror
exclude|consistent] [--n-resamples 1000] [--seed 0]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parser, save, write_csv, write_latex  # noqa: E402

STUDY = "position_bias_shi2024"
COLUMNS = ["benchmark", "judge", "repetition", "consistent", "total", "rate_authors", "position_consistency",
           "preference_fairness"]
BENCHMARKS = ("MTBench", "DevBench")
REPETITIONS = (1, 2, 3)


def run_table(data_dir: Path, *, missing_mirror: str = "exclude", n_resamples: int = 1000,
              seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(table, pairs, notes): one row per (benchmark, judge, repetition)."""
    from metajudge.goldsets import load_gold_set
    from metajudge.goldsets.shi2024 import SPEC  # registers the set even where adapters.py does not list it
    from metajudge.probes.position import position_probe

    rows: list[dict] = []
    pairs: list[dict] = []
    notes: list[str] = []
    for b in BENCHMARKS:
        for r in REPETITIONS:
            gs = load_gold_set(SPEC.name, data_dir, benchmark=b, repetition=r, missing_mirror=missing_mirror)
            notes += [f"{b} repetition {r}: {n}" for n in gs.notes[2:]]
            ours = position_probe(gs.table, options={"missing_mirror": missing_mirror},
                                  n_resamples=n_resamples, rng=seed)
            authors = position_probe(gs.table, options={"missing_mirror": "consistent"}, n_resamples=0, rng=seed)
            est = pd.DataFrame(ours.rows).set_index(["judge", "metric"])
            for judge in gs.table.judges:
                a = authors.counts[judge]
                c = ours.counts[judge]
                cons_rows = 2 * a["consistent"] - a["missing_mirror_usable"]
                total_rows = 2 * a["classified"] - a["missing_mirror_usable"]
                pc = est.loc[(judge, "position_consistency")]
                pf = est.loc[(judge, "preference_fairness")]
                rows.append({"benchmark": b, "judge": judge, "repetition": r, "consistent": int(cons_rows),
                             "total": int(total_rows),
                             "rate_authors": cons_rows / total_rows if total_rows else float("nan"),
                             "position_consistency": float(pc["estimate"]),
                             "preference_fairness": float(pf["estimate"])})
                pairs.append({"benchmark": b, "judge": judge, "repetition": r, "classified": c["classified"],
                              "consistent_pairs": c["consistent"], "primacy": c["primacy"],
                              "recency": c["recency"], "missing_mirror": c["missing_mirror"],
                              "unparseable_pairs": c["unparseable_pairs"],
                              "pc_ci_low": float(pc["ci_low"]), "pc_ci_high": float(pc["ci_high"]),
                              "pf_ci_low": float(pf["ci_low"]), "pf_ci_high": float(pf["ci_high"]),
                              "ci_method": f"{pc['method']} / {pf['method']}",
                              "missing_mirror_option": missing_mirror})
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table, pd.DataFrame(pairs), notes


def figure(table: pd.DataFrame, pairs: pd.DataFrame):
    from metajudge.plots import OKABE_ITO, new_figure

    colours = [OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["bluish_green"]]
    markers = ["o", "s", "^"]
    fig = new_figure(7.16, 6.0)
    axes = fig.subplots(2, 1, sharex=False)
    for ax, b in zip(axes, BENCHMARKS):
        t = table[table["benchmark"] == b]
        p = pairs[pairs["benchmark"] == b]
        judges = sorted(t["judge"].unique())
        x = np.arange(len(judges))
        for k, r in enumerate(REPETITIONS):
            tr = t[t["repetition"] == r].set_index("judge").reindex(judges)
            pr = p[p["repetition"] == r].set_index("judge").reindex(judges)
            off = (k - 1) * 0.22
            y = tr["position_consistency"].to_numpy(dtype=float)
            err = np.vstack([y - pr["pc_ci_low"].to_numpy(dtype=float), pr["pc_ci_high"].to_numpy(dtype=float) - y])
            err = np.where(np.isfinite(err), err, 0.0)
            ax.errorbar(x + off, y, yerr=err, fmt=markers[k], color=colours[k], ms=4, capsize=2, lw=0.8,
                        label=f"PC, repetition {r} (95% CI)")
            ax.plot(x + off, tr["rate_authors"].to_numpy(dtype=float), ls="none", marker="x", color="0.35", ms=4,
                    zorder=4, label="authors' rate (rows)" if k == 0 else None)
        ax.set_xticks(x)
        ax.set_xticklabels(judges, rotation=30, ha="right", fontsize=7)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("position consistency")
        ax.set_title(b, fontsize=9)
        ax.grid(axis="y", lw=0.3, alpha=0.5)
    axes[0].legend(fontsize=6, ncol=2, loc="lower right")
    return fig


def main(argv: list[str] | None = None) -> int:
    ap = parser(STUDY, __doc__, bootstrap=True)
    ap.add_argument("--missing-mirror", choices=["exclude", "consistent"], default="exclude",
                    help="convention for position_consistency / preference_fairness (default exclude, METRICS.md); "
                         "rate_authors always uses the authors' convention (consistent)")
    args = ap.parse_args(argv)
    out: Path = args.output
    out.mkdir(parents=True, exist_ok=True)
    table, pairs, notes = run_table(args.data_dir, missing_mirror=args.missing_mirror,
                                    n_resamples=args.n_resamples, seed=args.seed)
    write_csv(table, out / "table.csv")
    write_csv(pairs, out / "pairs.csv")
    write_latex(table, out / "table.tex", digits=3,
                caption="Shi et al. (2024) repetition study: consistent rows / all rows and the authors' rate "
                        "(a missing mirror counted as consistent), and position consistency (PC) and "
                        f"preference fairness (PF) over pairs (missing mirror: {args.missing_mirror}).",
                label="tab:position_bias_shi2024")
    fig = figure(table, pairs)
    save(fig, out, "figure")
    summ = table.groupby(["benchmark", "judge"])[["rate_authors", "position_consistency",
                                                  "preference_fairness"]].mean()
    print(f"{len(table)} runs (benchmark x judge x repetition); mean over the 3 repetitions:")
    print(summ.round(3).to_string())
    diff = table[table["rate_authors"] != table["position_consistency"]]
    print(f"{len(diff)} run(s) where the authors' row rate differs from PC over pairs "
          f"(missing mirrors: {int(pairs['missing_mirror'].sum())} in all)")
    for n in sorted(set(notes)):
        if not n.split(": ", 1)[1].startswith("0 run"):
            print("note:", n)
    print(f"wrote {out}/table.csv, pairs.csv, table.tex, figure.pdf, figure.svg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
