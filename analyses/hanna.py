"""HANNA story evaluation: agreement of the LLM raters with the crowd, human ceilings, probes, and the
correlations as Chhun et al. compute them.

Runs metajudge on the gold set ``hanna`` for each criterion (relevance, coherence, empathy, surprise,
engagement, complexity): 20 judges (Beluga-13B, ChatGPT, Llama-13B, Mistral-7B, OrcaPlatypus, each with the
paper's four prompting setups p1-p4) against the mean of the three crowd ratings of each of the 1,056 stories.

Outputs in OUTDIR (default ``reports/analyses/hanna/``):

``agreement.csv``
    ``judge, criterion, metric, level, estimate, ci_low, ci_high, confidence_level, n, human_ceiling,
    human_ceiling_ci_low, human_ceiling_ci_high, judge_loao, judge_loao_ci_low, judge_loao_ci_high, note``:
    Krippendorff's α (interval) of the judge with the reference, and Pearson, Spearman and Kendall τ-b at
    dataset level (the 1,056 stories), group level (per prompt across the 11 story sources, then the mean) and
    system level (the 11 sources' means). The human ceiling is metajudge's leave-one-annotator-out ceiling
    (each rating slot against the mean of the other two, averaged over the three slots) and ``judge_loao`` the
    judge against the same leave-one-out references; both exist for Pearson and Spearman at dataset level
    (NaN with a note elsewhere). Rows ``judge="humans"`` hold Krippendorff's α among the three ratings.
``probes.csv``
    Leniency (mean LLM − crowd shift, Bland–Altman limits) and system validity (the 11 sources ranked by the LLM
    and by the crowd, per-source deviations). Length and self-preference cannot run (no story texts in the
    staged folder; no judge wrote a HANNA story).
``paper_tables.csv``
    The correlations as the TACL 2024 analysis computes them (its notebook's ``overall`` and ``system``
    correlation types; Pearson, Spearman and Kendall, scipy): ``overall`` = over the stories, ``system`` = over
    the 11 sources' mean scores, of each LLM/prompt with the crowd mean; and the human baseline the repository's
    ``Human Avg k`` columns allow: each rating slot k against the mean of the other two (``Human Avg k``),
    averaged over k (``judge="human (slot vs mean of the others)"``). Columns ``table, judge, criterion,
    metric, value, n``.
``agreement.tex``, ``system_kendall.tex``, ``agreement_vs_ceiling.{pdf,svg}``
    Dataset-level Pearson r of every judge per criterion beside the human ceiling; the system-level Kendall τ
    per judge and criterion; a figure of the first with the ceiling band.

System-level rank correlations need ties handled exactly: two sources can have the same mean in exact
arithmetic (complexity: BertGeneration and RoBERTa both 347/144) while their float sums differ in the last
bit. ``paper_tables.csv`` and metajudge's system-level Spearman/Kendall (``agreement.csv``, ``probes.csv``) both
round the per-system means to 12 decimals before ranking, so such means tie (the two agree on every row).

Conventions that differ from metajudge's defaults (named options): ``--out-of-range exclude`` (default) leaves
out LLM cells outside [1, 5] (means that include failed answers scored -1), counted in the notes;
``--out-of-range keep`` uses the published cells as they are, for the metajudge run and ``paper_tables.csv``
alike (the published columns contain them).

Usage: ``python analyses/hanna.py --data-dir DIR [-o OUTDIR] [--criterion C ...] [--n-resamples 1000]
[--seed 0] [--out-of-range exclude|keep]``
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_folder, parser, save, write_csv, write_latex  # noqa: E402

STUDY = "hanna"
CRITERIA = ("relevance", "coherence", "empathy", "surprise", "engagement", "complexity")
KINDS = ("pearson", "spearman", "kendall_tau")
HUMAN = "human (slot vs mean of the others)"
TIE_DECIMALS = 12  # per-system means are rounded before ranking: equal rational means must tie
AGREEMENT_COLUMNS = ["judge", "criterion", "metric", "level", "estimate", "ci_low", "ci_high", "confidence_level",
                     "n", "human_ceiling", "human_ceiling_ci_low", "human_ceiling_ci_high", "judge_loao",
                     "judge_loao_ci_low", "judge_loao_ci_high", "note"]
PROBE_COLUMNS = ["judge", "criterion", "probe", "metric", "slice", "estimate", "ci_low", "ci_high", "n", "p_value",
                 "p_adjusted", "note"]
PAPER_COLUMNS = ["table", "judge", "criterion", "metric", "value", "n"]


def agreement_rows(a, criterion: str, tied: dict[tuple[str, str], str] | None = None) -> pd.DataFrame:
    ag = a.agreement
    ag = ag[ag["slice"] == "all"]
    ceil = a.ceiling
    nan = float("nan")
    rows = []
    for r in ag.itertuples(index=False):
        hc = jl = pd.DataFrame()
        if r.level == "dataset":
            hc = ceil[(ceil["judge"] == f"human_ceiling@{r.judge}") & (ceil["metric"] == r.metric)]
            if hc.empty:
                hc = ceil[(ceil["judge"] == "human_ceiling") & (ceil["metric"] == r.metric)]
            jl = ceil[(ceil["judge"] == r.judge) & (ceil["metric"] == r.metric)]
        note = str(r.note or "")
        if hc.empty:
            note = "; ".join(x for x in (note, "human ceiling NaN: the leave-one-annotator-out ceiling is computed "
                                               "for Pearson and Spearman at dataset level") if x)

        def get(d: pd.DataFrame, c: str) -> float:
            return float(d[c].iloc[0]) if len(d) else nan

        rows.append({"judge": r.judge, "criterion": criterion, "metric": r.metric, "level": r.level,
                     "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high,
                     "confidence_level": r.confidence_level, "n": int(r.n), "human_ceiling": get(hc, "estimate"),
                     "human_ceiling_ci_low": get(hc, "ci_low"), "human_ceiling_ci_high": get(hc, "ci_high"),
                     "judge_loao": get(jl, "estimate"), "judge_loao_ci_low": get(jl, "ci_low"),
                     "judge_loao_ci_high": get(jl, "ci_high"), "note": note})
    for r in ceil[ceil["judge"] == "humans"].itertuples(index=False):
        rows.append({"judge": "humans", "criterion": criterion, "metric": r.metric, "level": r.level,
                     "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high,
                     "confidence_level": r.confidence_level, "n": int(r.n), "human_ceiling": nan,
                     "human_ceiling_ci_low": nan, "human_ceiling_ci_high": nan, "judge_loao": nan,
                     "judge_loao_ci_low": nan, "judge_loao_ci_high": nan,
                     "note": "inter-rater reliability of the three crowd ratings (slots, not fixed people)"})
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def probe_rows(a, criterion: str) -> pd.DataFrame:
    p = a.probe_results
    return pd.DataFrame({"judge": p["judge"], "criterion": criterion, "probe": p["probe"], "metric": p["metric"],
                         "slice": p["slice"], "estimate": p["estimate"], "ci_low": p["ci_low"],
                         "ci_high": p["ci_high"], "n": p["n"], "p_value": p["p_value"],
                         "p_adjusted": p["p_adjusted"], "note": p["note"]})[PROBE_COLUMNS]


def _corr(x, y, kind: str) -> float:
    from metajudge.metrics import correlation
    from metajudge.metrics.bootstrap import UndefinedMetricWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return float(correlation(np.asarray(x, float), np.asarray(y, float), kind=kind, n_resamples=0).estimate)


def paper_tables(folder: Path, criterion: str, out_of_range: str,
                 tied: dict[tuple[str, str], str] | None = None) -> list[dict]:
    """Overall and system-level correlations of every LLM/prompt with the crowd mean, and the slot baseline.

    ``tied`` (filled in) maps (criterion, judge) to the side(s) whose per-system means tie exactly."""
    tied = {} if tied is None else tied
    from metajudge.goldsets.hanna import frames, read_long

    gold, judges = frames(read_long(folder), criterion)
    wide = gold.pivot(index="item_id", columns="rater", values="label")
    mean = wide.mean(axis=1)
    system = gold.drop_duplicates("item_id").set_index("item_id")["system"]
    out: list[dict] = []
    for name, j in judges.items():
        y = j.set_index("item_id")["label"].astype(float)
        if out_of_range == "exclude":
            y = y[(y >= 1) & (y <= 5)]
        d = pd.DataFrame({"h": mean.reindex(y.index), "j": y, "sys": system.reindex(y.index)}).dropna()
        # means equal in exact arithmetic (e.g. 347/144 for two sources) must tie: round off the summation noise
        per = d.groupby("sys")[["h", "j"]].mean().round(TIE_DECIMALS)
        ties = [c for c in ("h", "j") if per[c].duplicated().any()]
        if ties:
            tied[(criterion, name)] = " and ".join({"h": "crowd", "j": "LLM"}[c] for c in ties)
        for kind in KINDS:
            out.append({"table": "overall", "judge": name, "criterion": criterion, "metric": kind,
                        "value": _corr(d["h"], d["j"], kind), "n": len(d)})
            out.append({"table": "system", "judge": name, "criterion": criterion, "metric": kind,
                        "value": _corr(per["h"], per["j"], kind), "n": len(per)})
    for kind in KINDS:  # each slot against the mean of the other two (the repository's "Human Avg k" columns)
        ov, sy = [], []
        for k in wide.columns:
            others = wide.drop(columns=k).mean(axis=1)
            ov.append(_corr(others, wide[k], kind))
            per = pd.DataFrame({"o": others, "k": wide[k], "sys": system.reindex(wide.index)}).groupby("sys").mean()
            per = per.round(TIE_DECIMALS)
            sy.append(_corr(per["o"], per["k"], kind))
        out.append({"table": "overall", "judge": HUMAN, "criterion": criterion, "metric": kind,
                    "value": float(np.mean(ov)), "n": len(wide)})
        out.append({"table": "system", "judge": HUMAN, "criterion": criterion, "metric": kind,
                    "value": float(np.mean(sy)), "n": int(system.nunique())})
    return out


def _figure(agree: pd.DataFrame, out: Path) -> list[Path]:
    from metajudge.plots import new_figure

    d = agree[(agree["metric"] == "pearson") & (agree["level"] == "dataset") & (agree["judge"] != "humans")]
    crits = list(dict.fromkeys(d["criterion"]))
    ncol = min(3, len(crits))
    nrow = (len(crits) + ncol - 1) // ncol
    fig = new_figure(7.16, 0.6 + 2.3 * nrow)
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False).ravel())
    llms = sorted({j.split("/")[0] for j in d["judge"]})
    for ax, crit in zip(axes, crits):
        s = d[d["criterion"] == crit]
        r0 = s.dropna(subset=["human_ceiling"])
        if len(r0):
            r0 = r0[r0["judge"].isin(s["judge"])].iloc[0]
            ax.axhspan(r0["human_ceiling_ci_low"], r0["human_ceiling_ci_high"], color="0.85", zorder=0)
            ax.axhline(r0["human_ceiling"], color="0.4", lw=1, ls="--", label="human ceiling (LOAO)")
        for p in range(1, 5):
            sp = s[s["judge"].str.endswith(f"/p{p}")]
            sp = sp.set_index(sp["judge"].str.split("/").str[0]).reindex(llms)
            x = np.arange(len(llms)) + (p - 2.5) * 0.16
            ax.errorbar(x, sp["estimate"], yerr=[sp["estimate"] - sp["ci_low"], sp["ci_high"] - sp["estimate"]],
                        fmt="o", ms=3, capsize=1.5, color=f"C{p - 1}", label=f"prompt {p}")
            ax.plot(x, sp["judge_loao"], "x", ms=4, color=f"C{p - 1}",
                    label="same judge vs LOAO refs" if p == 4 else None)
        ax.axhline(0, color="0.7", lw=0.5)
        ax.set_xticks(np.arange(len(llms)), llms, rotation=30, ha="right", fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(crit, fontsize=9)
        ax.set_ylim(-0.25, 1.0)
    for ax in axes[len(crits):]:
        ax.set_visible(False)
    axes[0].set_ylabel("Pearson r with crowd mean\n(dataset level, 95% CI)", fontsize=7)
    axes[0].legend(fontsize=6, ncol=2, loc="upper left")
    return save(fig, out, "agreement_vs_ceiling")


def _latex(agree: pd.DataFrame, paper: pd.DataFrame, out: Path) -> list[Path]:
    d = agree[(agree["metric"] == "pearson") & (agree["level"] == "dataset")]
    crits = list(dict.fromkeys(d["criterion"]))
    tab = d[d["judge"] != "humans"].pivot(index="judge", columns="criterion", values="estimate")[crits]
    ceiling = d.groupby("criterion")["human_ceiling"].first().reindex(crits)
    alpha = agree[(agree["judge"] == "humans")].groupby("criterion")["estimate"].first().reindex(crits)
    tab.loc["human ceiling (LOAO r)"] = ceiling.to_numpy()
    tab.loc["humans: Krippendorff's α"] = alpha.to_numpy()
    tab = tab.reset_index()
    p1 = write_latex(tab, out / "agreement.tex", label="tab:hanna-agreement",
                     caption="HANNA: Pearson r of each LLM rater (prompt p1-p4) with the mean of the three crowd "
                             "ratings over the 1,056 stories (dataset level), the leave-one-annotator-out human "
                             "ceiling, and Krippendorff's alpha (interval) among the crowd ratings.",
                     columns=["judge", *crits], headers=["judge", *crits])
    k = paper[(paper["table"] == "system") & (paper["metric"] == "kendall_tau")]
    kt = k.pivot(index="judge", columns="criterion", values="value")[crits].reset_index()
    p2 = write_latex(kt, out / "system_kendall.tex", label="tab:hanna-system-kendall",
                     caption="HANNA: system-level Kendall tau between the 11 story sources' mean LLM rating and "
                             "mean crowd rating (the TACL 2024 system-level correlation), and the same for one "
                             "crowd rating slot against the mean of the other two.",
                     columns=["judge", *crits], headers=["judge", *crits])
    return [p1, p2]


def main(argv: list[str] | None = None) -> int:
    ap = parser(STUDY, __doc__, bootstrap=True)
    ap.add_argument("--criterion", action="append", choices=CRITERIA,
                    help="a criterion to analyse (repeatable; default: all six)")
    ap.add_argument("--out-of-range", choices=["exclude", "keep"], default="exclude",
                    help="LLM cells outside [1, 5]: left out (default) or kept as published")
    args = ap.parse_args(argv)
    from metajudge.goldsets import run_gold_set
    from metajudge.goldsets.hanna import SPEC  # importing the adapter registers the gold set

    folder = data_folder(SPEC, args.data_dir)
    if folder is None:
        return 2
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    crits = list(dict.fromkeys(args.criterion or CRITERIA))
    agree, probes, paper = [], [], []
    for crit in crits:
        a = run_gold_set(STUDY, folder, options={"criterion": crit, "prompt": "all", "out_of_range": args.out_of_range},
                         seed=args.seed, n_resamples=args.n_resamples, compare_judges=False)
        tied: dict[tuple[str, str], str] = {}
        paper += paper_tables(folder, crit, args.out_of_range, tied)
        agree.append(agreement_rows(a, crit, tied))
        probes.append(probe_rows(a, crit))
    agree_df = pd.concat(agree, ignore_index=True)
    probe_df = pd.concat(probes, ignore_index=True)
    paper_df = pd.DataFrame(paper, columns=PAPER_COLUMNS)
    write_csv(agree_df, out / "agreement.csv")
    write_csv(probe_df, out / "probes.csv")
    write_csv(paper_df, out / "paper_tables.csv")
    _latex(agree_df, paper_df, out)
    _figure(agree_df, out)

    d = agree_df[(agree_df["metric"] == "pearson") & (agree_df["level"] == "dataset")]
    best = d.sort_values("estimate", ascending=False).groupby("criterion", sort=False).head(1)
    print("HANNA: best LLM rater per criterion (Pearson r with the crowd mean, dataset level) and the human "
          "ceiling (one rating vs the mean of the other two):")
    print(best[["criterion", "judge", "estimate", "ci_low", "ci_high", "judge_loao", "human_ceiling"]]
          .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {out}/agreement.csv, probes.csv, paper_tables.csv, agreement.tex, system_kendall.tex, "
          "agreement_vs_ceiling.pdf/.svg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
