"""SummEval with the LLM ratings of Shen et al. (2023): agreement with the annotators, human ceilings, probes.

Runs metajudge on the gold set ``summeval_shen2023`` for each dimension (coherence, consistency, fluency,
relevance): the 9 LLM rating runs (gpt-3.5-turbo-0301 rts, mcq, stareval, altrts, altmcq; gpt-4-0314 rts;
llama-2 7b/13b/70b rts) against the mean of the 3 experts (``--annotators crowd``: the 5 crowd workers), and the
gpt-3.5 head-to-head comparisons (both presentation orders) against the annotators' pairwise votes. Then it
recomputes the paper's own tables from the raw files with the authors' conventions.

Outputs in OUTDIR (default ``reports/analyses/summeval_shen2023/``):

``agreement.csv``
    One row per (task, dimension, judge, metric, level): ``judge, task, dimension, annotators, metric, level,
    estimate, ci_low, ci_high, confidence_level, n, human_ceiling, human_ceiling_ci_low, human_ceiling_ci_high,
    judge_loao, judge_loao_ci_low, judge_loao_ci_high, note``. ``estimate`` is the judge against the mean of all
    annotators (rating) or their majority vote (h2h). The human ceiling is metajudge's leave-one-annotator-out
    ceiling: the mean over annotators h of agreement(h, mean of the others), and ``judge_loao`` is the judge
    scored against the **same** leave-one-out references (METRICS.md §4); it exists for the metrics the ceiling
    computes (rating: Pearson and Spearman at dataset level; h2h: every table metric) and is NaN with a note
    elsewhere. Rows ``judge="humans"`` give Krippendorff's α among the annotators.
``probes.csv``
    The bias probes metajudge runs on the data: rating: length (OLS of the judge score on log summary length
    with the expert mean as covariate), leniency (mean judge − expert shift, Bland–Altman limits), system (the
    12 summarisers ranked by judge and by experts); h2h: position (consistency across the two orders,
    preference fairness, first-position rate, both-order accuracy), length (prefer-longer excess over the
    annotators), leniency (tie rate), system (win-rate ranking).
``paper_tables.csv``
    The paper's computations (``table`` column): ``per_system`` (``per_model_corr.py``: for each system, the
    correlation over its 100 summaries of the LLM score with the expert mean), ``dataset`` (``calc_data_corr.py``,
    the paper's Table 5: one correlation over the 1,200 summaries), ``meta`` (``calc_meta_corr.py``: the
    correlation over systems of the per-system correlation with the system's mean expert score) and ``h2h``
    (``calc_h2h_pairs.py``: per system pair, the LLM's and the annotators' win percentage of ``model_1`` over the
    100 articles, LLM votes averaged over both orders, ties worth ½; a pair is *correct* when both are above,
    both at, or both below 50). Columns ``table, judge, dimension, system, metric, value, n``.
``agreement.tex`` and ``agreement_vs_ceiling.{pdf,svg}``
    Dataset-level Pearson r of each rating run with its CI, the same judge against the leave-one-out references
    and the human ceiling, per dimension.

Conventions that differ from metajudge's defaults (named options):

- ``--unparseable exclude`` (default): a response whose score could not be parsed is left out and counted.
  The authors' scripts keep the extractor's -1 as a score (one llama-2-70b coherence response); ``minus-one``
  reproduces that in ``paper_tables.csv`` only (metajudge never imputes).
- Duplicate summaries in a source file keep the last line, as the authors' scripts do (adapter default).
- The h2h reference of ``agreement.csv`` is the annotators' majority vote (which gives a ceiling); the paper's
  expert-mean comparison is used in ``paper_tables.csv`` (and is the adapter option ``h2h_reference=mean``).

Usage: ``python analyses/summeval_shen2023.py --data-dir DIR [-o OUTDIR] [--annotators expert|crowd]
[--dimension D ...] [--n-resamples 1000] [--seed 0] [--unparseable exclude|minus-one]``
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import data_folder, parser, save, write_csv, write_latex  # noqa: E402

STUDY = "summeval_shen2023"
DIMENSIONS = ("coherence", "consistency", "fluency", "relevance")
KINDS = ("spearman", "pearson", "kendall_tau")
AGREEMENT_COLUMNS = ["judge", "task", "dimension", "annotators", "metric", "level", "estimate", "ci_low", "ci_high",
                     "confidence_level", "n", "human_ceiling", "human_ceiling_ci_low", "human_ceiling_ci_high",
                     "judge_loao", "judge_loao_ci_low", "judge_loao_ci_high", "note"]
PROBE_COLUMNS = ["judge", "task", "dimension", "annotators", "probe", "metric", "slice", "estimate", "ci_low",
                 "ci_high", "n", "p_value", "p_adjusted", "note"]
PAPER_COLUMNS = ["table", "judge", "dimension", "system", "metric", "value", "n"]


def agreement_rows(a, task: str, dimension: str, annotators: str) -> pd.DataFrame:
    """The judge rows of an Analysis with the human ceiling and the judge's leave-one-out score beside them."""
    ag = a.agreement
    ag = ag[ag["slice"] == "all"]
    ceil = a.ceiling
    rows = []
    for r in ag.itertuples(index=False):
        ceiling_level = "dataset" if task == "rating" else "item"
        hc = jl = None
        if r.level == ceiling_level:
            own = ceil[(ceil["judge"] == f"human_ceiling@{r.judge}") & (ceil["metric"] == r.metric)]
            hc = own if len(own) else ceil[(ceil["judge"] == "human_ceiling") & (ceil["metric"] == r.metric)]
            jl = ceil[(ceil["judge"] == r.judge) & (ceil["metric"] == r.metric)
                      & (ceil["reference"] == "leave-one-annotator-out")]
        note = str(r.note or "")
        if hc is None or not len(hc):
            why = ("the leave-one-annotator-out ceiling is computed for Pearson and Spearman at dataset level"
                   if task == "rating" else "no leave-one-annotator-out ceiling for this metric or reference")
            if not len(ceil[ceil["judge"] == "human_ceiling"]):
                why = "no human ceiling: a single reference rater"
            note = "; ".join(x for x in (note, f"human ceiling NaN: {why}") if x)
        get = (lambda d, c: float(d[c].iloc[0]) if d is not None and len(d) else float("nan"))
        rows.append({"judge": r.judge, "task": task, "dimension": dimension, "annotators": annotators,
                     "metric": r.metric, "level": r.level, "estimate": r.estimate, "ci_low": r.ci_low,
                     "ci_high": r.ci_high, "confidence_level": r.confidence_level, "n": int(r.n),
                     "human_ceiling": get(hc, "estimate"), "human_ceiling_ci_low": get(hc, "ci_low"),
                     "human_ceiling_ci_high": get(hc, "ci_high"), "judge_loao": get(jl, "estimate"),
                     "judge_loao_ci_low": get(jl, "ci_low"), "judge_loao_ci_high": get(jl, "ci_high"),
                     "note": note})
    for r in ceil[ceil["judge"] == "humans"].itertuples(index=False):
        rows.append({"judge": "humans", "task": task, "dimension": dimension, "annotators": annotators,
                     "metric": r.metric, "level": r.level, "estimate": r.estimate, "ci_low": r.ci_low,
                     "ci_high": r.ci_high, "confidence_level": r.confidence_level, "n": int(r.n),
                     "human_ceiling": np.nan, "human_ceiling_ci_low": np.nan, "human_ceiling_ci_high": np.nan,
                     "judge_loao": np.nan, "judge_loao_ci_low": np.nan, "judge_loao_ci_high": np.nan,
                     "note": f"inter-annotator reliability among the {annotators} annotators"})
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def probe_rows(a, task: str, dimension: str, annotators: str) -> pd.DataFrame:
    p = a.probe_results
    out = pd.DataFrame({"judge": p["judge"], "task": task, "dimension": dimension, "annotators": annotators,
                        "probe": p["probe"], "metric": p["metric"], "slice": p["slice"], "estimate": p["estimate"],
                        "ci_low": p["ci_low"], "ci_high": p["ci_high"], "n": p["n"], "p_value": p["p_value"],
                        "p_adjusted": p["p_adjusted"], "note": p["note"]})
    return out[PROBE_COLUMNS]


# ---------------------------------------------------------------------------------------------- paper tables
def _corr(x, y, kind: str) -> float:
    from metajudge.metrics import correlation
    from metajudge.metrics.bootstrap import UndefinedMetricWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(correlation(np.asarray(x, float), np.asarray(y, float), kind=kind, n_resamples=0).estimate)


def paper_rating_tables(folder: Path, dimension: str, annotators: str, unparseable: str) -> list[dict]:
    """per_model_corr.py, calc_data_corr.py and calc_meta_corr.py on one dimension, every rating run."""
    from metajudge.goldsets.summeval import SYSTEMS, human_frame, read_annotations, rating_judges

    ann = read_annotations(folder)
    gold = human_frame(ann, dimension, annotators)
    ref = gold.groupby("item_id")["label"].mean()
    system = gold.drop_duplicates("item_id").set_index("item_id")["system"]
    ratings = pd.read_parquet(folder / "llm_ratings.parquet")
    judges, _ = rating_judges(ratings, dimension)
    out: list[dict] = []
    for name, j in judges.items():
        s = j.set_index("item_id")
        y = s["label"].astype(float)
        if unparseable == "minus-one":
            y = y.where(s["parse_ok"], -1.0)
        d = pd.DataFrame({"h": ref.reindex(y.index), "j": y, "sys": system.reindex(y.index)}).dropna()
        for kind in KINDS:
            out.append({"table": "dataset", "judge": name, "dimension": dimension, "system": "all", "metric": kind,
                        "value": _corr(d["h"], d["j"], kind), "n": len(d)})
        per, avg = {}, {}
        for sysname in SYSTEMS:
            g = d[d["sys"] == sysname]
            vals = {kind: _corr(g["h"], g["j"], kind) for kind in KINDS}
            for kind in KINDS:
                out.append({"table": "per_system", "judge": name, "dimension": dimension, "system": sysname,
                            "metric": kind, "value": vals[kind], "n": len(g)})
            if all(np.isfinite(v) for v in vals.values()):  # calc_meta_corr.py keeps systems with all three
                per[sysname], avg[sysname] = vals, round(float(g["h"].mean()), 12)  # equal means tie exactly
        keep = list(per)
        for kind in KINDS:
            out.append({"table": "meta", "judge": name, "dimension": dimension, "system": f"{len(keep)} systems",
                        "metric": kind, "value": _corr([per[s][kind] for s in keep], [avg[s] for s in keep], kind)
                        if len(keep) > 2 else float("nan"), "n": len(keep)})
    return out


def paper_h2h_table(folder: Path, dimension: str, annotators: str) -> list[dict]:
    """calc_h2h_pairs.py: per system pair, win percentages of model_1 by the LLM (both orders) and the humans."""
    from metajudge.goldsets.summeval import ANNOTATORS, H2H_VERDICT, read_annotations

    h = pd.read_parquet(folder / "h2h_comparisons.parquet")
    h = h[h["dimension"] == dimension].copy()
    if annotators != "expert":  # the file's human scores are the expert means; recompute for the crowd
        ann = read_annotations(folder)
        col, _ = ANNOTATORS[annotators]
        mean = pd.Series([np.mean([a[dimension] for a in lst]) for lst in ann[col]],
                         index=ann["id"].astype(str) + "|" + ann["model_id"].astype(str))
        h["human_score_1"] = mean.reindex(h["id"] + "|" + h["model_1"]).to_numpy()
        h["human_score_2"] = mean.reindex(h["id"] + "|" + h["model_2"]).to_numpy()
    letter = h["resp"].astype(str).str.extract(H2H_VERDICT)[0]
    # shown frame -> model_1's points: A means model_1 unless toggled; anything else (C, unparsed) is a tie
    first = np.where(h["toggle"], letter == "B", letter == "A")
    second = np.where(h["toggle"], letter == "A", letter == "B")
    h["llm_1"] = np.where(first, 1.0, np.where(second, 0.0, 0.5))
    out: list[dict] = []
    correct = total = 0
    for (m1, m2), g in h.groupby(["model_1", "model_2"], sort=False):
        llm = g["llm_1"].sum() / 2            # points over both orders, averaged: out of 100 articles
        one = g.drop_duplicates("id")
        hum = float(np.where(one["human_score_1"] > one["human_score_2"], 1.0,
                             np.where(one["human_score_1"] < one["human_score_2"], 0.0, 0.5)).sum())
        half = len(one) / 2
        ok = (llm > half and hum > half) or (llm == half and hum == half) or (llm < half and hum < half)
        correct += int(ok)
        total += 1
        pair = f"{m1}-{m2}"
        out += [{"table": "h2h", "judge": "gpt-3.5-turbo-0301/h2h", "dimension": dimension, "system": pair,
                 "metric": "llm_win_pct_model_1", "value": 100 * llm / len(one), "n": len(one)},
                {"table": "h2h", "judge": "gpt-3.5-turbo-0301/h2h", "dimension": dimension, "system": pair,
                 "metric": "human_win_pct_model_1", "value": 100 * hum / len(one), "n": len(one)},
                {"table": "h2h", "judge": "gpt-3.5-turbo-0301/h2h", "dimension": dimension, "system": pair,
                 "metric": "correct", "value": float(ok), "n": 1}]
    out.append({"table": "h2h", "judge": "gpt-3.5-turbo-0301/h2h", "dimension": dimension, "system": "all pairs",
                "metric": "correct_pairs", "value": float(correct), "n": total})
    return out


# ---------------------------------------------------------------------------------------------- outputs
def _figure(agree: pd.DataFrame, out: Path, annotators: str) -> list[Path]:
    from metajudge.plots import new_figure

    d = agree[(agree["task"] == "rating") & (agree["metric"] == "pearson") & (agree["level"] == "dataset")]
    dims = list(dict.fromkeys(d["dimension"]))
    fig = new_figure(7.16, 1.2 + 0.28 * d["judge"].nunique() * max(1, (len(dims) + 1) // 2))
    axes = fig.subplots(max(1, (len(dims) + 1) // 2), 2 if len(dims) > 1 else 1, squeeze=False).ravel()
    for ax, dim in zip(axes, dims):
        s = d[d["dimension"] == dim].sort_values("judge", ascending=False).reset_index(drop=True)
        y = np.arange(len(s))
        hc = s["human_ceiling"].dropna()
        if len(hc):
            r = s.dropna(subset=["human_ceiling"]).iloc[0]
            ax.axvspan(r["human_ceiling_ci_low"], r["human_ceiling_ci_high"], color="0.85", zorder=0)
            ax.axvline(r["human_ceiling"], color="0.4", lw=1, ls="--", zorder=1, label="human ceiling (LOAO)")
        ax.errorbar(s["estimate"], y, xerr=[s["estimate"] - s["ci_low"], s["ci_high"] - s["estimate"]], fmt="o",
                    ms=4, color="C0", capsize=2, label=f"judge vs {annotators} mean")
        ax.plot(s["judge_loao"], y, "x", color="C3", ms=5, label="judge vs same LOAO refs")
        ax.set_yticks(y, s["judge"].str.replace("-turbo-0301", "").str.replace("-chat-hf", ""), fontsize=7)
        ax.set_title(dim, fontsize=9)
        ax.set_xlim(min(-0.1, float(np.nanmin(s["ci_low"])) - 0.05), 1.0)
        ax.axvline(0, color="0.7", lw=0.5)
        ax.tick_params(axis="x", labelsize=7)
        ax.set_xlabel("Pearson r (dataset level, 95% CI)", fontsize=7)
    for ax in axes[len(dims):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=6, loc="lower right")
    return save(fig, out, "agreement_vs_ceiling")


def _latex(agree: pd.DataFrame, out: Path, annotators: str) -> Path:
    d = agree[(agree["task"] == "rating") & (agree["judge"] != "humans")]
    key = ["dimension", "judge"]
    r = d[(d["metric"] == "pearson") & (d["level"] == "dataset")].set_index(key)
    grp = d[(d["metric"] == "spearman") & (d["level"] == "group")].set_index(key)["estimate"]
    sysk = d[(d["metric"] == "kendall_tau") & (d["level"] == "system")].set_index(key)["estimate"]
    tab = pd.DataFrame({"r": r["estimate"], "lo": r["ci_low"], "hi": r["ci_high"], "loao": r["judge_loao"],
                        "ceiling": r["human_ceiling"], "rho_group": grp.reindex(r.index),
                        "tau_system": sysk.reindex(r.index)}).reset_index()
    tab["ci"] = [f"[{lo:.2f}, {hi:.2f}]" for lo, hi in zip(tab["lo"], tab["hi"])]
    return write_latex(tab, out / "agreement.tex", label="tab:summeval-shen2023",
                       caption=f"SummEval (Shen et al. 2023): LLM ratings vs the {annotators} mean. Pearson r over "
                               "1,200 summaries with 95% item-bootstrap CI; the same judge against the "
                               "leave-one-annotator-out references (LOAO) and the human ceiling on those "
                               "references; Spearman rho per article (group level, averaged); Kendall tau over "
                               "the 12 systems' means.",
                       columns=["dimension", "judge", "r", "ci", "loao", "ceiling", "rho_group", "tau_system"],
                       headers=["dimension", "judge", "r", "95% CI", "r (LOAO)", "human ceiling",
                                "ρ (group)", "τ (system)"])


def main(argv: list[str] | None = None) -> int:
    ap = parser(STUDY, __doc__, bootstrap=True)
    ap.add_argument("--annotators", choices=["expert", "crowd"], default="expert",
                    help="the human side: 3 experts (default) or 5 crowd workers")
    ap.add_argument("--dimension", action="append", choices=DIMENSIONS,
                    help="a dimension to analyse (repeatable; default: all four)")
    ap.add_argument("--unparseable", choices=["exclude", "minus-one"], default="exclude",
                    help="paper_tables.csv: leave unparseable scores out (default) or keep the extractor's -1 as "
                         "the authors' scripts do")
    args = ap.parse_args(argv)
    from metajudge.goldsets import run_gold_set
    from metajudge.goldsets.summeval import SPEC  # importing the adapter registers the gold set

    folder = data_folder(SPEC, args.data_dir)
    if folder is None:
        return 2
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    dims = list(dict.fromkeys(args.dimension or DIMENSIONS))
    agree, probes, paper = [], [], []
    for dim in dims:
        for task in ("rating", "h2h"):
            opts = {"task": task, "dimension": dim, "annotators": args.annotators}
            a = run_gold_set(STUDY, folder, options=opts, seed=args.seed, n_resamples=args.n_resamples,
                             compare_judges=False)
            agree.append(agreement_rows(a, task, dim, args.annotators))
            probes.append(probe_rows(a, task, dim, args.annotators))
        paper += paper_rating_tables(folder, dim, args.annotators, args.unparseable)
        paper += paper_h2h_table(folder, dim, args.annotators)
    agree_df = pd.concat(agree, ignore_index=True)
    probe_df = pd.concat(probes, ignore_index=True)
    paper_df = pd.DataFrame(paper, columns=PAPER_COLUMNS)
    write_csv(agree_df, out / "agreement.csv")
    write_csv(probe_df, out / "probes.csv")
    write_csv(paper_df, out / "paper_tables.csv")
    _latex(agree_df, out, args.annotators)
    _figure(agree_df, out, args.annotators)

    show = agree_df[(agree_df["task"] == "rating") & (agree_df["metric"] == "pearson")
                    & (agree_df["level"] == "dataset")]
    print(f"SummEval (Shen et al. 2023), reference = {args.annotators} mean; Pearson r over the summaries, the "
          "same judge on leave-one-out references, and the human ceiling:")
    print(show[["dimension", "judge", "estimate", "ci_low", "ci_high", "judge_loao", "human_ceiling"]]
          .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    h2h = paper_df[(paper_df["table"] == "h2h") & (paper_df["metric"] == "correct_pairs")]
    print("h2h system pairs ranked like the annotators (calc_h2h_pairs.py rule): "
          + ", ".join(f"{r.dimension} {int(r.value)}/{r.n}" for r in h2h.itertuples()))
    print(f"wrote {out}/agreement.csv, probes.csv, paper_tables.csv, agreement.tex, agreement_vs_ceiling.pdf/.svg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
