"""LLMBar (Zeng et al. 2024): accuracy and positional agreement per subset x evaluator x strategy; true vs stored kappa.

Reads the ``llmbar`` folder (SOURCE.md layout: ``judgments.parquet`` + ``datasets/<subset>/dataset.json``)
through the registered adapter (:mod:`metajudge.goldsets.llmbar`, every evaluator and strategy, Rating
verdicts as stored) and computes, for each of the 499 (subset, evaluator, strategy) cells that were run:

- ``accuracy`` (percent): agreement of the verdicts of **both** presentation orders with the gold label;
- ``agreement`` (percent): positional agreement, the share of instances whose verdict is the same in the two
  orders (the swapped run's verdict mapped back to the original numbering);
- ``n``: instances in the cell.

Both are rounded to 2 decimals. The unit is the instance: an evaluator's null verdict (no parseable answer) is
handled by a named convention, ``--convention``:

- ``authors`` (default; the paper's Tables and the repository's ``statistics.json``, ``LLMEvaluator/
  evaluate.py``): accuracy = (#right verdicts in the original order + #right in the swapped order) / (2n), a
  null verdict counting as wrong ("correct_average"); agreement = #instances whose two verdicts are equal / n,
  two nulls counting as equal ("equal"). In metajudge terms: percent agreement with a third category
  "no verdict" that matches no gold label, and the position probe's ``both_unparseable=agree`` count of
  consistent pairs over every instance.
- ``metajudge`` (METRICS.md's default): a null verdict is left out and counted; accuracy = percent agreement
  over the usable verdicts of both orders, agreement = position consistency over the pairs with two usable
  verdicts (position probe, default options). ``n`` stays the number of instances.

Cohen's kappa (``kappa.csv``): ``LLMEvaluator/evaluate.py`` stores ``kappa_False``/``kappa_True`` =
``sklearn.metrics.cohen_kappa_score(verdict, label)`` after mapping the verdict with ``int(v) if v in ("0",
"1") else 0``: verdict "1" stays 1 but verdict "2" **and** a null become 0, while the gold labels stay 1 and 2.
The two label sets then share only the value 1, so an evaluator that picks output_2 correctly is scored as a
disagreement: the stored p_o is the share of (verdict 1, gold 1) instances only, and the stored "kappa" is
far below the real one (0.260 against 0.867 for GPT-4 Vanilla_NoRules on LLMBar/Natural) and not a chance-corrected
agreement at all (METRICS.md §7 trap 3). ``kappa_agreement`` (between the two orders) maps both sides the same
way, so it is a real kappa except that a null is merged with verdict "2". This script reproduces the stored
values exactly from the raw verdicts (``kappa_stored*``, the repository's mapping fed to metajudge's
``cohen_kappa`` on the union of the labels, which is what scikit-learn does) and puts the correct values
beside them: Cohen's kappa of verdict vs gold on the 2-level scale per order (``kappa_false``,
``kappa_true``; null verdicts left out and counted in ``unparseable``), their mean ``kappa`` (the stored
``kappa_average`` is the mean of the stored pair), and the kappa between the two orders (``kappa_orders``,
pairs with two usable verdicts). Undefined kappas (chance agreement 1) are NaN with a ``note``.

Outputs in OUTDIR: ``table.csv`` (``subset, evaluator, strategy, accuracy, agreement, n``), ``kappa.csv``,
``table.tex`` (the LLMBar subsets, strategies ``--latex-strategies``, accuracy / agreement per subset and the
unweighted mean over the five subsets), ``kappa.tex`` (stored vs correct kappa on the same cells, mean over the
five subsets) and ``figure.{pdf,svg}`` (accuracy vs positional agreement on the LLMBar subsets; stored vs
correct kappa for every cell).

Usage: ``python analyses/llmbar.py --data-dir ../shared/realdata [-o OUTDIR] [--convention authors|metajudge]``
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parser, save, write_csv, write_latex  # noqa: E402

STUDY = "llmbar"
COLUMNS = ["subset", "evaluator", "strategy", "accuracy", "agreement", "n"]
KAPPA_COLUMNS = ["subset", "evaluator", "strategy", "n", "unparseable", "kappa_stored", "kappa",
                 "kappa_stored_false", "kappa_false", "kappa_stored_true", "kappa_true", "kappa_orders_stored",
                 "kappa_orders", "note"]
KAPPA_REASON = ("the repository maps verdict '2' and a null verdict to 0 but leaves the gold labels at 1 and 2 "
                "(LLMEvaluator/evaluate.py), so only (verdict 1, gold 1) counts as agreement: its 'kappa' is not "
                "Cohen's kappa of verdict vs gold")
NONE = 2  # code of "no verdict" beside A = 0, B = 1


def _kappa(ref: np.ndarray, cand: np.ndarray, levels: list[int]) -> tuple[float, str]:
    from metajudge.metrics import cohen_kappa

    ok = ~(np.isnan(ref) | np.isnan(cand))
    if not ok.any():
        return float("nan"), "no usable verdict"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = cohen_kappa(ref[ok].astype(int), cand[ok].astype(int), levels=levels, n_resamples=0)
    return float(e.estimate), e.note


def _stored_map(codes: np.ndarray) -> np.ndarray:
    """The repository's mapping of a verdict: '1' (code 0) -> 1; '2' (code 1) and null -> 0."""
    return np.where(codes == 0, 1, 0).astype(float)


def cell_frame(table: Any, judge: str) -> pd.DataFrame:
    """One row per instance of ``judge``: the gold code and the AB / BA verdict codes (A = 0, B = 1; NaN for a
    null verdict), from the aligned table (usable rows) and its excluded rows."""
    rows = table.rows(judge)
    wide = rows.pivot(index="item_id", columns="order", values="value")
    ex = table.excluded
    items = sorted(set(rows["item_id"]) | set(ex.loc[ex["rater"] == judge, "item_id"]))
    wide = wide.reindex(index=items, columns=["AB", "BA"])
    subset = table.item_attrs["subset"].reindex(items)
    return pd.DataFrame({"item_id": items, "subset": subset.to_numpy(),
                         "gold": table.reference.reindex(items).to_numpy(dtype=float),
                         "AB": wide["AB"].to_numpy(dtype=float), "BA": wide["BA"].to_numpy(dtype=float)})


def run_tables(data_dir: Path, *, convention: str = "authors") -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(table, kappa, notes) for every subset x evaluator x strategy that was run."""
    import metajudge.goldsets.llmbar as lb
    from metajudge.goldsets import load_gold_set
    from metajudge.metrics import percent_agreement
    from metajudge.probes.position import position_probe

    if convention not in ("authors", "metajudge"):
        raise ValueError(f"convention must be authors or metajudge, not {convention!r}")
    gs = load_gold_set("llmbar", data_dir, subset="all", evaluator="all", strategy="all")
    t = gs.table
    probe_opts = {"both_unparseable": "agree"} if convention == "authors" else {}
    probe = position_probe(t, options=probe_opts, n_resamples=0, rng=0)
    rows: list[dict[str, Any]] = []
    kap: list[dict[str, Any]] = []
    consistent: dict[str, int] = {}
    for judge in t.judges:
        evaluator, strategy = judge.split("/", 1)
        cf = cell_frame(t, judge)
        for subset in lb.SUBSETS:
            c = cf[cf["subset"] == subset]
            if c.empty:
                continue
            n = len(c)
            gold = c["gold"].to_numpy()
            ab, ba = c["AB"].to_numpy(), c["BA"].to_numpy()
            both = np.concatenate([ab, ba])
            gold2 = np.concatenate([gold, gold])
            if convention == "authors":
                acc = percent_agreement(gold2, np.where(np.isnan(both), NONE, both), levels=[0, 1, NONE],
                                        n_resamples=0).estimate
                agr = percent_agreement(np.where(np.isnan(ab), NONE, ab), np.where(np.isnan(ba), NONE, ba),
                                        levels=[0, 1, NONE], n_resamples=0).estimate
            else:
                ok = ~np.isnan(both)
                acc = (percent_agreement(gold2[ok], both[ok], levels=[0, 1], n_resamples=0).estimate
                       if ok.any() else float("nan"))
                pair = ~(np.isnan(ab) | np.isnan(ba))
                agr = (percent_agreement(ab[pair], ba[pair], levels=[0, 1], n_resamples=0).estimate
                       if pair.any() else float("nan"))
            same = (ab == ba) | (np.isnan(ab) & np.isnan(ba)) if convention == "authors" else (ab == ba)
            consistent[judge] = consistent.get(judge, 0) + int(same.sum())
            rows.append({"subset": subset, "evaluator": evaluator, "strategy": strategy,
                         "accuracy": round(100 * acc, 2), "agreement": round(100 * agr, 2), "n": n})
            # kappa: the repository's mapping (gold 1/2, verdict 1 -> 1, else 0) and the correct one
            g12 = gold + 1
            ks_f, _ = _kappa(g12, _stored_map(ab), [0, 1, 2])
            ks_t, _ = _kappa(g12, _stored_map(ba), [0, 1, 2])
            ks_o, _ = _kappa(_stored_map(ab), _stored_map(ba), [0, 1])
            k_f, nf = _kappa(gold, ab, [0, 1])
            k_t, nt = _kappa(gold, ba, [0, 1])
            k_o, no = _kappa(ab, ba, [0, 1])
            notes = sorted({x for x in (nf, nt, no) if x and "undefined" in x})
            kap.append({"subset": subset, "evaluator": evaluator, "strategy": strategy, "n": n,
                        "unparseable": int(np.isnan(both).sum()), "kappa_stored": (ks_f + ks_t) / 2,
                        "kappa": (k_f + k_t) / 2, "kappa_stored_false": ks_f, "kappa_false": k_f,
                        "kappa_stored_true": ks_t, "kappa_true": k_t, "kappa_orders_stored": ks_o,
                        "kappa_orders": k_o, "note": "; ".join(notes)})
    table = pd.DataFrame(rows, columns=COLUMNS)
    kappa = pd.DataFrame(kap, columns=KAPPA_COLUMNS)
    order = {s: i for i, s in enumerate(lb.SUBSETS)}
    ev = {e: i for i, e in enumerate(lb.EVALUATORS)}
    st = {s: i for i, s in enumerate(lb.STRATEGIES)}

    def key(df: pd.DataFrame) -> pd.DataFrame:
        return df.assign(_a=df["subset"].map(order), _b=df["evaluator"].map(ev), _c=df["strategy"].map(st)) \
            .sort_values(["_a", "_b", "_c"]).drop(columns=["_a", "_b", "_c"]).reset_index(drop=True)

    notes = [n for n in gs.notes if "verdicts are null" in n or "Rating strategies" in n]
    # the per-subset agreement counts add up to the position probe's consistent pairs of each judge
    bad = [j for j in t.judges if probe.counts[j]["consistent"] != consistent[j]]
    if bad:
        raise RuntimeError(f"positional agreement disagrees with the position probe for {bad[:3]}")
    notes.append(f"position probe ({'both_unparseable=agree' if convention == 'authors' else 'default options'}): "
                 f"{sum(consistent.values()):,} consistent pairs over {len(t.judges)} evaluator/strategy judges, "
                 "equal to the sum of the per-subset counts")
    return key(table), key(kappa), notes


def latex_frames(table: pd.DataFrame, kappa: pd.DataFrame, strategies: list[str]) -> tuple[pd.DataFrame,
                                                                                           pd.DataFrame]:
    """The paper-style tables: LLMBar subsets, the given strategies, per-subset values and their mean."""
    import metajudge.goldsets.llmbar as lb

    subs = list(lb.GROUPS["llmbar"])
    short = {s: s.rsplit("/", 1)[-1] for s in subs}
    t = table[table["subset"].isin(subs) & table["strategy"].isin(strategies)]
    wide = t.pivot_table(index=["evaluator", "strategy"], columns="subset", values=["accuracy", "agreement"],
                         sort=False)
    out = pd.DataFrame(index=wide.index)
    for s in subs:
        out[f"{short[s]} acc"] = wide[("accuracy", s)]
        out[f"{short[s]} agr"] = wide[("agreement", s)]
    out["mean acc"] = wide["accuracy"][subs].mean(axis=1)
    out["mean agr"] = wide["agreement"][subs].mean(axis=1)
    k = kappa[kappa["subset"].isin(subs) & kappa["strategy"].isin(strategies)]
    kk = k.groupby(["evaluator", "strategy"], sort=False)[["kappa_stored", "kappa", "kappa_orders_stored",
                                                            "kappa_orders"]].mean()
    return out.reset_index(), kk.reset_index()


def figure(table: pd.DataFrame, kappa: pd.DataFrame) -> Any:
    from metajudge.plots import new_figure

    import metajudge.goldsets.llmbar as lb

    fig = new_figure(10, 4.2)
    ax1, ax2 = fig.subplots(1, 2)
    sub = table[table["subset"].isin(lb.GROUPS["llmbar"])]
    markers = dict(zip(lb.EVALUATORS, ("o", "s", "^", "D", "v", "P")))
    for ev in lb.EVALUATORS:
        d = sub[sub["evaluator"] == ev]
        ax1.scatter(d["agreement"], d["accuracy"], s=12, marker=markers[ev], label=ev, alpha=0.7)
    ax1.axhline(50, color="grey", lw=0.8, ls=":")
    ax1.set_xlabel("positional agreement (%)")
    ax1.set_ylabel("accuracy (%), both orders")
    ax1.set_title("LLMBar subsets: one point per subset x evaluator x strategy", fontsize=9)
    ax1.legend(fontsize=7, loc="upper left")
    ok = kappa[["kappa_stored", "kappa"]].notna().all(axis=1)
    ax2.scatter(kappa.loc[ok, "kappa"], kappa.loc[ok, "kappa_stored"], s=10, alpha=0.6)
    lim = [-1, 1]
    ax2.plot(lim, lim, color="grey", lw=0.8, ls="--", label="stored = correct")
    ax2.set_xlim(-1.02, 1.02)
    ax2.set_ylim(-1.02, 1.02)
    ax2.axhline(0, color="grey", lw=0.5)
    ax2.axvline(0, color="grey", lw=0.5)
    ax2.set_xlabel("Cohen's kappa, verdict vs gold (mean of the two orders)")
    ax2.set_ylabel("repository's stored 'kappa_average'")
    ax2.set_title("stored 'kappa' maps verdict 2 to 0, labels stay 1/2", fontsize=9)
    ax2.legend(fontsize=7, loc="upper left")
    return fig


def main(argv: list[str] | None = None) -> int:
    ap = parser(STUDY, __doc__)
    ap.add_argument("--convention", choices=["authors", "metajudge"], default="authors",
                    help="null verdicts: authors (default; wrong in accuracy, two nulls agree) or metajudge "
                         "(left out and counted)")
    ap.add_argument("--latex-strategies", default="Vanilla_NoRules,Metrics_Reference",
                    help="strategies in table.tex / kappa.tex (comma-separated; default the paper's Vanilla and "
                         "Rules+Metrics+Reference)")
    args = ap.parse_args(argv)
    out: Path = args.output
    out.mkdir(parents=True, exist_ok=True)
    table, kappa, notes = run_tables(args.data_dir, convention=args.convention)
    write_csv(table, out / "table.csv")
    write_csv(kappa, out / "kappa.csv")
    strategies = [s.strip() for s in args.latex_strategies.split(",") if s.strip()]
    tex, ktex = latex_frames(table, kappa, strategies)
    write_latex(tex, out / "table.tex", digits=2,
                caption=f"LLMBar: accuracy (acc) and positional agreement (agr) in percent per subset, and their "
                        f"unweighted mean over the five LLMBar subsets (null verdicts: {args.convention} "
                        "convention).", label="tab:llmbar")
    write_latex(ktex, out / "kappa.tex", digits=3,
                columns=["evaluator", "strategy", "kappa_stored", "kappa", "kappa_orders_stored", "kappa_orders"],
                headers=["evaluator", "strategy", "stored kappa", "Cohen's kappa", "stored kappa (orders)",
                         "kappa (orders)"],
                caption="LLMBar: the repository's stored kappa (verdict 2 and null mapped to 0, gold left at "
                        "1/2) beside Cohen's kappa of verdict vs gold, and between the two orders; means over "
                        "the five LLMBar subsets.", label="tab:llmbar_kappa")
    save(figure(table, kappa), out, "figure")

    print(f"{len(table)} cells (subset x evaluator x strategy), convention {args.convention}; accuracy and "
          "positional agreement in percent:")
    show = table[(table["subset"] == "LLMBar/Natural") & table["strategy"].isin(strategies)]
    print(show.to_string(index=False))
    d = kappa.dropna(subset=["kappa_stored", "kappa"])
    gap = (d["kappa"] - d["kappa_stored"])
    print(f"kappa: stored 'kappa_average' median {d['kappa_stored'].median():.3f} vs Cohen's kappa median "
          f"{d['kappa'].median():.3f} over {len(d)} cells; correct minus stored: median {gap.median():.3f}, "
          f"max {gap.max():.3f}")
    ex = kappa[(kappa["subset"] == "LLMBar/Natural") & kappa["strategy"].isin(strategies)]
    print("stored vs correct kappa on LLMBar/Natural:")
    print(ex[["evaluator", "strategy", "kappa_stored", "kappa", "kappa_orders_stored", "kappa_orders"]]
          .round(3).to_string(index=False))
    print(f"why they differ: {KAPPA_REASON}.")
    for n in notes:
        print("note:", n)
    print(f"wrote {out}/table.csv, kappa.csv, table.tex, kappa.tex, figure.pdf, figure.svg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
