"""Chiang & Lee (2023), Topical-Chat: ChatGPT (mean of 20 samples) vs USR ratings, per prompt variant and attribute.

Recomputes the Topical-Chat table of "A Closer Look into Using Large Language Models for Automatic Evaluation"
(Findings of EMNLP 2023) from ``closer_look_topicalchat/`` through the registered adapter
(:mod:`metajudge.goldsets.topical_chat`), with the study's own conventions (its ``all_eval.py``):

- the judge's score of a response is the mean of the 20 sampled ChatGPT ratings;
- ``pearson_dataset``: Pearson r over all responses of the attribute (the paper's "Method 1", dataset level);
- ``kendall_group``: Kendall τ-b (``scipy.stats.kendalltau``'s default) within each dialogue context over its
  (up to 6) responses, then the unweighted mean over dialogues; a dialogue where the human or the ChatGPT
  scores are constant is skipped (the study's rule, also metajudge's group level): ``n_groups_kept`` counts the
  dialogues left; ``n_items`` the responses with both scores.

Convention that differs from metajudge's default, as a named option: ``--unparseable zero`` (default here, the
study's) scores a response the authors' parser cannot read as 0 and averages it in; ``--unparseable exclude``
(the adapter's default, METRICS.md trap 4) leaves it out of the mean. Both are counted in the printed notes.
The study rounds to 3 decimals; the CSV keeps full precision and the LaTeX table shows 3 decimals.

Outputs in OUTDIR: ``table.csv`` (columns ``prompt_variant, attribute, pearson_dataset, kendall_group, n_items,
n_groups_kept``), ``intervals.csv`` (95% bootstrap intervals: items for Pearson, dialogues for the group
mean), ``table.tex`` and ``figure.{pdf,svg}``.

Usage: ``python analyses/topical_chat.py --data-dir ../shared/realdata [-o OUTDIR] [--unparseable zero|exclude]
[--n-resamples 1000] [--seed 0]``
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parser, save, write_csv, write_latex  # noqa: E402

STUDY = "topical_chat"
COLUMNS = ["prompt_variant", "attribute", "pearson_dataset", "kendall_group", "n_items", "n_groups_kept"]


def run_table(data_dir: Path, *, unparseable: str = "zero", n_resamples: int = 1000,
              seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(table, intervals, notes): one row per (prompt variant, attribute)."""
    import metajudge.goldsets.topical_chat as tc  # registers the set even where adapters.py does not list it
    from metajudge.goldsets import load_gold_set
    from metajudge.metrics import correlation_levels

    rows: list[dict] = []
    ivs: list[dict] = []
    notes: list[str] = []
    for attr in tc.ATTRIBUTES:
        gs = load_gold_set(STUDY, data_dir, attribute=attr, unparseable=unparseable)
        notes += [f"{attr}: {n}" for n in gs.notes[2:]]
        t = gs.table
        wide = t.wide("judge")
        groups = t.item_attrs["group"]
        for judge in t.judges:
            variant = judge.split("/", 1)[1]
            both = pd.concat([t.reference.rename("human"), wide[judge].rename("judge")], axis=1,
                             join="inner").dropna()
            g = groups.reindex(both.index).to_numpy()
            pe = correlation_levels(both["human"], both["judge"], kind="pearson", n_resamples=n_resamples,
                                    rng=seed)["dataset"]
            kt = correlation_levels(both["human"], both["judge"], kind="kendall_tau", variant="b", groups=g,
                                    n_resamples=n_resamples, rng=seed)["group"]
            rows.append({"prompt_variant": variant, "attribute": attr, "pearson_dataset": pe.estimate,
                         "kendall_group": kt.estimate, "n_items": int(pe.n), "n_groups_kept": int(kt.n)})
            ivs.append({"prompt_variant": variant, "attribute": attr,
                        "pearson_ci_low": pe.ci_low, "pearson_ci_high": pe.ci_high, "pearson_method": pe.method,
                        "kendall_ci_low": kt.ci_low, "kendall_ci_high": kt.ci_high, "kendall_method": kt.method,
                        "n_groups": int(pd.Series(g).nunique()), "kendall_note": kt.note,
                        "confidence_level": pe.confidence_level, "unparseable": unparseable})
    order = {v: i for i, v in enumerate(tc.VARIANTS)}
    table = pd.DataFrame(rows, columns=COLUMNS)
    key = table["prompt_variant"].map(order) * 10 + table["attribute"].map(
        {a: i for i, a in enumerate(tc.ATTRIBUTES)})
    table = table.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)
    intervals = pd.DataFrame(ivs).set_index(["prompt_variant", "attribute"]).loc[
        list(zip(table["prompt_variant"], table["attribute"]))].reset_index()
    return table, intervals, notes


def figure(table: pd.DataFrame, intervals: pd.DataFrame):
    from metajudge.goldsets.topical_chat import ATTRIBUTES, VARIANTS
    from metajudge.plots import OKABE_ITO, new_figure

    colours = [OKABE_ITO[c] for c in ("blue", "vermillion", "bluish_green", "reddish_purple", "orange",
                                       "sky_blue", "black")]
    markers = ["o", "s", "^", "D", "v", "P", "X"]
    fig = new_figure(7.16, 3.4)
    axes = fig.subplots(1, 2, sharey=True)
    x = np.arange(len(ATTRIBUTES))
    panels = (("pearson_dataset", "pearson", "Pearson r, dataset level"),
              ("kendall_group", "kendall", "Kendall τ-b, mean over dialogues"))
    for ax, (col, ci, title) in zip(axes, panels):
        for k, v in enumerate(VARIANTS):
            t = table[table["prompt_variant"] == v].set_index("attribute").reindex(ATTRIBUTES)
            iv = intervals[intervals["prompt_variant"] == v].set_index("attribute").reindex(ATTRIBUTES)
            y = t[col].to_numpy(dtype=float)
            err = np.vstack([y - iv[f"{ci}_ci_low"].to_numpy(dtype=float),
                             iv[f"{ci}_ci_high"].to_numpy(dtype=float) - y])
            err = np.where(np.isfinite(err), np.clip(err, 0, None), 0.0)
            off = (k - (len(VARIANTS) - 1) / 2) * 0.1
            ax.errorbar(x + off, y, yerr=err, fmt=markers[k], color=colours[k], ms=3.5, capsize=1.5, lw=0.7,
                        label=v)
        ax.set_xticks(x)
        ax.set_xticklabels(ATTRIBUTES, fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.grid(axis="y", lw=0.3, alpha=0.5)
    axes[0].set_ylabel("correlation with USR ratings (95% CI)")
    axes[1].legend(fontsize=6, loc="lower right", title="prompt variant", title_fontsize=6)
    return fig


def main(argv: list[str] | None = None) -> int:
    ap = parser(STUDY, __doc__, bootstrap=True)
    ap.add_argument("--unparseable", choices=["zero", "exclude"], default="zero",
                    help="a sample the authors' parser cannot read: zero (default, the study's convention) or "
                         "exclude (metajudge's default)")
    args = ap.parse_args(argv)
    out: Path = args.output
    out.mkdir(parents=True, exist_ok=True)
    table, intervals, notes = run_table(args.data_dir, unparseable=args.unparseable,
                                        n_resamples=args.n_resamples, seed=args.seed)
    write_csv(table, out / "table.csv")
    write_csv(intervals, out / "intervals.csv")
    write_latex(table, out / "table.tex", digits=3,
                caption="Topical-Chat: ChatGPT (mean of 20 samples) vs USR ratings, per prompt variant and "
                        "attribute: Pearson r at dataset level and Kendall tau-b per dialogue, averaged over the "
                        f"dialogues kept (unparseable samples: {args.unparseable}).",
                label="tab:topical_chat")
    save(figure(table, intervals), out, "figure")
    show = table.assign(pearson_dataset=table["pearson_dataset"].round(3),
                        kendall_group=table["kendall_group"].round(3))
    print(f"{len(table)} rows (prompt variant x attribute), unparseable={args.unparseable}:")
    print(show.pivot(index="prompt_variant", columns="attribute",
                     values=["pearson_dataset", "kendall_group"]).to_string())
    for n in notes:
        print("note:", n)
    print(f"wrote {out}/table.csv, intervals.csv, table.tex, figure.pdf, figure.svg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
