"""JudgeBench (Tan et al. 2025): both-order accuracy (%) of each judge per category (Knowledge ... Coding, Overall).

Reads the ``judgebench`` folder (SOURCE.md layout: ``data/*.jsonl`` + ``judgments.jsonl``) through the
registered adapter (:mod:`metajudge.goldsets.judgebench`) once per response model and category, and takes the
both-order accuracy and its counts from metajudge's position probe:

- every pair was judged twice, game 1 with response A shown first and game 2 with B first; game 2's decision
  is mapped back to A/B; each decision is a vote, +1 if it names the correct response, -1 if it names the
  other one, 0 for a tie (``A=B``); the pair counts as correct when the votes net positive (JudgeBench
  ``utils/metrics.py`` ``compute_final_metrics``, the rule of the paper's tables). So A+A and A+tie are
  correct for label A; A+B (inconsistent), tie+tie and B+anything-not-A are wrong.
- ``inconsistent``: pairs whose two decisions (game 2 mapped back) differ, JudgeBench's ``n_inconsistent``.
- categories: Knowledge = ``mmlu-pro-*``, Reasoning = ``livebench-reasoning``, Math = ``livebench-math``,
  Coding = ``livecodebench``; Overall = all pairs of the response model.

``--convention`` names how two details are handled:

- ``judgebench`` (default; reproduces the paper): a null decision (the judge gave no parseable verdict) is a
  zero vote and its pair stays in the denominator (``n`` = every pair); two nulls count as consistent, one
  null as inconsistent (``!=`` on the raw decisions). Reward models' decisions are kept as stored, where
  equal scores were decided ``B>A`` (the response shown second wins). Adapter options
  ``unparseable=tie, score_ties=stored``: with no tie label in JudgeBench, a null scored as a tie is exactly a
  zero vote, so accuracy and ``n`` come straight from the position probe; the probe sees a null against a real
  ``A=B`` as two ties (consistent) where JudgeBench's ``!=`` counts the pair as inconsistent, so those pairs
  (their null rows keep ``raw`` "null decision" in the aligned table) are added to the probe's
  ``inconsistent`` count (6 pairs of claude-3-haiku).
- ``metajudge`` (METRICS.md defaults): pairs with a null decision are left out and counted (``n`` = pairs with
  two usable decisions), and equal reward-model scores are ties (METRICS.md §7 trap 10). Adapter options
  ``unparseable=exclude, score_ties=tie``. Accuracies differ only for claude-3-haiku (13 pairs with a null);
  the reward models' tied scores change ``inconsistent`` only (a tie vote and the stored ``B>A`` both leave
  such a pair wrong).

Outputs in OUTDIR: ``table.csv`` (``response_model, judge, category, accuracy, n, inconsistent``), ``table.tex``
(accuracy per judge and category) and ``figure.{pdf,svg}`` (accuracy per judge and category, with 50%: a judge
that flips one coin per pair and is consistent across orders; one that flips a coin per order scores 25%, since
a split pair nets zero).

Usage: ``python analyses/judgebench.py --data-dir ../shared/realdata [-o OUTDIR] [--convention
judgebench|metajudge]``
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parser, save, write_csv, write_latex  # noqa: E402

STUDY = "judgebench"
COLUMNS = ["response_model", "judge", "category", "accuracy", "n", "inconsistent"]
CATEGORIES = ("Knowledge", "Reasoning", "Math", "Coding", "Overall")
CONVENTIONS = {"judgebench": {"unparseable": "tie", "score_ties": "stored"},
               "metajudge": {"unparseable": "exclude", "score_ties": "tie"}}


def _null_against_tie(table: Any, judge: str) -> int:
    """Pairs whose one decision is null (scored as a tie, ``raw`` "null decision") and the other a real tie
    ``A=B``: consistent for the probe (two ties), inconsistent for JudgeBench (``None != "A=B"``)."""
    d = table.rows(judge)
    raw = d["raw"].astype(str)
    kind = np.select([raw.str.startswith("null decision").to_numpy(), (d["value"] == 1).to_numpy()],
                     ["null", "tie"], "decisive")
    per_item = pd.DataFrame({"item": d["item_id"].to_numpy(), "kind": kind}).groupby("item")["kind"]
    return int(per_item.agg(lambda k: sorted(k) == ["null", "tie"]).sum())


def run_table(data_dir: Path, *, convention: str = "judgebench") -> tuple[pd.DataFrame, list[str]]:
    """(table, notes): one row per (response model, judge, category)."""
    import metajudge.goldsets.judgebench as jb
    from metajudge.goldsets import load_gold_set, resolve_dir
    from metajudge.probes.position import position_probe

    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {list(CONVENTIONS)}, not {convention!r}")
    opts = CONVENTIONS[convention]
    folder = resolve_dir(jb.SPEC, data_dir)
    models = sorted(jb.read_pairs(folder)["response_model"].unique())
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for rm in models:
        for cat in CATEGORIES:
            gs = load_gold_set("judgebench", data_dir, response_model=rm,
                               category="all" if cat == "Overall" else cat, **opts)
            if cat == "Overall":
                notes += [n for n in gs.notes[3:] if n not in notes]
            res = position_probe(gs.table, n_resamples=0, rng=0)
            est = {r["judge"]: r["estimate"] for r in res.rows if r["metric"] == "both_order_accuracy"}
            for judge in gs.table.judges:
                c = res.counts[judge]
                extra = _null_against_tie(gs.table, judge) if opts["unparseable"] == "tie" else 0
                acc = c["both_order_correct"] / c["both_order_n"] if c["both_order_n"] else float("nan")
                if not np.isclose(acc, est[judge], equal_nan=True):
                    raise RuntimeError(f"both-order accuracy of {judge} disagrees with its counts")
                rows.append({"response_model": rm, "judge": judge, "category": cat,
                             "accuracy": round(100 * acc, 2), "n": int(c["both_order_n"]),
                             "inconsistent": int(c["inconsistent"]) + extra})
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table, notes


def latex_frame(table: pd.DataFrame) -> pd.DataFrame:
    wide = table.pivot_table(index=["response_model", "judge"], columns="category", values="accuracy", sort=False)
    return wide[list(CATEGORIES)].reset_index()


def figure(table: pd.DataFrame) -> Any:
    from metajudge.plots import new_figure

    wide = latex_frame(table)
    labels = [f"{j}\n({rm})" for rm, j in zip(wide["response_model"], wide["judge"])]
    fig = new_figure(9, 0.5 + 0.55 * len(wide))
    ax = fig.subplots()
    y = np.arange(len(wide))
    h = 0.8 / len(CATEGORIES)
    for k, cat in enumerate(CATEGORIES):
        ax.barh(y + (k - (len(CATEGORIES) - 1) / 2) * h, wide[cat], height=h, label=cat)
    ax.axvline(50, color="grey", lw=0.8, ls="--")
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("both-order accuracy (%)")
    ax.set_title("JudgeBench: both-order accuracy per category (dashed: 50%, one coin flip per pair)", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    return fig


def main(argv: list[str] | None = None) -> int:
    ap = parser(STUDY, __doc__)
    ap.add_argument("--convention", choices=list(CONVENTIONS), default="judgebench",
                    help="null decisions and tied reward scores: judgebench (default; the paper) or metajudge")
    args = ap.parse_args(argv)
    out: Path = args.output
    out.mkdir(parents=True, exist_ok=True)
    table, notes = run_table(args.data_dir, convention=args.convention)
    write_csv(table, out / "table.csv")
    write_latex(latex_frame(table), out / "table.tex", digits=2,
                headers=["response model", "judge", *CATEGORIES],
                caption="JudgeBench: both-order accuracy (%) per category; a pair is correct when its two votes "
                        f"net in favour of the correct response ({args.convention} convention).",
                label="tab:judgebench")
    save(figure(table), out, "figure")
    print(f"both-order accuracy (%), {args.convention} convention:")
    print(latex_frame(table).to_string(index=False))
    ov = table[table["category"] == "Overall"]
    print("Overall n and inconsistent pairs:")
    print(ov[["response_model", "judge", "n", "inconsistent"]].to_string(index=False))
    for n in notes:
        print("note:", n)
    print(f"wrote {out}/table.csv, table.tex, figure.pdf, figure.svg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
