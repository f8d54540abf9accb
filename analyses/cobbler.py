"""CoBBLEr human preference study: 16 LLM evaluators against 6 annotators' rankings, with the human ceiling.

Reads the staged CoBBLEr files through the ``cobbler`` gold-set adapter (``--data-dir`` is the ``cobbler``
folder or a folder holding it). The annotators ranked the 15 systems' answers to each of 50 instructions; the
evaluators' pairwise verdicts are released only as win counts per system. Two readings, both from the adapter:

- *pairs* (metajudge's pairwise view): one item per (instruction, pair of systems); an annotator prefers the
  system it ranked higher, an evaluator the system with more wins (equal counts: a tie). Reference: the
  majority of the 6 annotators (3-3 splits have none and are left out, counted). Human ceiling, leave one
  annotator out: each annotator against the majority of the other 5 (never tied), and each evaluator against
  the same 6 references, averaged (METRICS.md §4).
- *ranks*: per instruction, Kendall τ-b between an evaluator's win counts and the annotators' mean rank score,
  averaged over instructions (group level); the ceiling again leaves one annotator out (annotator vs the mean
  of the other 5; the evaluator vs the same means).

The paper's own agreement measure is Rank-Biased Overlap (Webber et al. 2010) between each annotator's and
each evaluator's ranking, averaged over instructions, with the authors' conventions (``rbo_results.py``,
``rbo_preprocess.py`` at commit 5af58e0): persistence p = 0.8, the ``rbo`` package's ``rbo(p=0.8)``, i.e. the
sum to depth 15 without the extrapolated tail (two identical rankings score 1 − 0.8^15 = 0.965), evaluator
rankings sorted by (−wins, name), the mean over the 50 instructions rounded to 3 decimals per (annotator,
evaluator) pair, then averaged. Human–human: the mean over the 15 annotator pairs. The abstract reports a
human–machine mean of 49.6% and ``figure5.py`` hard-codes one value per evaluator; neither is reproduced by the
released win counts (see ``table.csv``'s ``rbo`` beside ``rbo_published``): e.g. dolly's released counts are all
0 on 49 of 50 instructions, so its ranking is the alphabetical tie-break, which cannot give figure 5's 0.607.

Null baselines, scored exactly like the evaluators: ``list_order`` ranks the systems in the fixed order in
which the release lists them (vicuna, baize, koala, ... llama; the evaluators' pairs were formed in that
order, and the annotators' rankings keep much of it: see the data card), ``always_longer`` /
``always_shorter`` prefer the longer / shorter answer (characters), ``alphabetical`` always prefers "A".

Writes to OUTDIR (default ``reports/analyses/cobbler/``):

- ``table.csv`` / ``table.tex``: one row per evaluator, the human ceiling and the baselines; columns
  ``rater, kind, n_items, n_majority (items with a 6-annotator majority: what percent_agreement and cohen_kappa
  use), tie_rate, percent_agreement, cohen_kappa, cohen_kappa_ci_low, cohen_kappa_ci_high,
  loao_percent_agreement, loao_cohen_kappa, loao_cohen_kappa_ci_low, loao_cohen_kappa_ci_high,
  kendall_tau_group, loao_kendall_tau_group, loao_kendall_tau_group_ci_low, loao_kendall_tau_group_ci_high,
  rbo, rbo_published, note``.
- ``rbo_pairs.csv``: ``rater_a, rater_b, kind, rbo`` (mean over instructions, rounded as the authors).
- ``agreement.csv``, ``probes.csv``: metajudge's tidy rows on the pairs view (agreement, ceiling and
  baseline sections; probes: length, self-preference, ties, system ranking).
- ``agreement.pdf`` / ``.svg``: leave-one-out κ per evaluator against the human ceiling; RBO recomputed
  against the published figure.

Intervals. The 105 pairs of one instruction come from the same rankings, so ``table.csv`` resamples
instructions (``--cluster instruction``, default); metajudge's default, in ``agreement.csv``, resamples items
(pairs), which gives narrower intervals (``--cluster pair`` applies it to the table too). ``--n-resamples``
(default 1000), ``--seed`` (default 0). ``--release new`` reads the later 13-system release.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from _common import parser, save, write_csv, write_latex  # noqa: E402

STUDY = "cobbler"
#: figure5.py (commit 778329d): "Avg. RBO w/ Human Preference" per evaluator, as plotted in the paper.
FIGURE5 = {"vicuna": 0.524, "baize": 0.11, "koala": 0.509, "wizardlm": 0.223, "chatgpt": 0.619,
           "instructgpt": 0.395, "gpt4": 0.456, "cohere": 0.529, "dolly": 0.607, "openassist": 0.467,
           "redpajama": 0.255, "mpt": 0.502, "alpaca": 0.153, "falcon": 0.57, "llama": 0.471}
#: abstract of arXiv:2309.17012: average RBO between human and machine preferences.
ABSTRACT_RBO = 0.496
LIST_ORDER = ("vicuna", "baize", "koala", "wizardlm", "chatgpt", "instructgpt", "gpt4", "cohere", "dolly",
              "openassist", "redpajama", "mpt", "alpaca", "falcon", "llama")
TABLE_COLUMNS = ["rater", "kind", "n_items", "n_majority", "tie_rate", "percent_agreement", "cohen_kappa",
                 "cohen_kappa_ci_low",
                 "cohen_kappa_ci_high", "loao_percent_agreement", "loao_cohen_kappa", "loao_cohen_kappa_ci_low",
                 "loao_cohen_kappa_ci_high", "kendall_tau_group", "loao_kendall_tau_group",
                 "loao_kendall_tau_group_ci_low", "loao_kendall_tau_group_ci_high", "rbo", "rbo_published", "note"]
A, TIE, B = 0.0, 1.0, 2.0


def rbo(s: list[str], t: list[str], p: float = 0.8) -> float:
    """Rank-biased overlap to the depth of the shorter list, without the extrapolated tail (the ``rbo``
    package's ``RankingSimilarity(s, t).rbo(p=p)``): Σ_d (1 − p) p^(d−1) |s[:d] ∩ t[:d]| / d."""
    seen_s: set[str] = set()
    seen_t: set[str] = set()
    overlap = 0
    total = 0.0
    for d in range(min(len(s), len(t))):
        a, b = s[d], t[d]
        if a == b:
            overlap += 1
        else:
            overlap += (a in seen_t) + (b in seen_s)
        seen_s.add(a)
        seen_t.add(b)
        total += (1 - p) * p ** d * overlap / (d + 1)
    return total


def _ranking(scores: dict[str, float], systems: list[str], by_name: bool = True) -> list[str]:
    return sorted(systems, key=lambda s: (-scores[s], s) if by_name else -scores[s])


def rbo_tables(raw: dict, evaluators: list[str], p: float) -> pd.DataFrame:
    """Mean RBO over instructions for every annotator pair and every (annotator, evaluator) pair, rounded to 3
    decimals as the authors do."""
    systems = raw["systems"]
    humans = raw["humans"]
    hr = {h: [_ranking(d, systems) for d in lists] for h, lists in humans.items()}
    rows = []
    names = list(hr)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            rows.append((a, b, "human-human", round(float(np.mean([rbo(x, y, p) for x, y in zip(hr[a], hr[b])])), 3)))
    rankers = {e: [_ranking(d, systems) for d in raw["evaluators"][e]] for e in evaluators}
    rankers["list_order"] = [[s for s in LIST_ORDER if s in systems]] * len(hr[names[0]])
    for e, lists in rankers.items():
        for h in names:
            rows.append((h, e, "human-evaluator" if e != "list_order" else "human-baseline",
                         round(float(np.mean([rbo(x, y, p) for x, y in zip(hr[h], lists)])), 3)))
    return pd.DataFrame(rows, columns=["rater_a", "rater_b", "kind", "rbo"])


class _Pairs:
    """The pairs view as arrays: annotators' and candidates' codes per item, the instruction of each item."""

    def __init__(self, table) -> None:
        w = table.wide()
        self.items = w.index.to_numpy()
        self.humans = list(table.humans)
        self.h = w[self.humans].to_numpy(dtype=float)
        self.cands = {j: w[j].to_numpy(dtype=float) for j in table.judges}
        from metajudge.goldsets.cobbler import instruction_of

        instr = instruction_of(pd.Series(self.items))
        self.cluster, self.instructions = pd.factorize(instr, sort=True)
        attrs = table.item_attrs.reindex(self.items)
        self.gen_a = attrs["generator_a"].to_numpy()
        self.gen_b = attrs["generator_b"].to_numpy()
        la = pd.to_numeric(attrs["length_a"]).to_numpy()
        lb = pd.to_numeric(attrs["length_b"]).to_numpy()
        self.baselines = {
            "list_order": np.where(_pos(self.gen_a) < _pos(self.gen_b), A, B),
            "always_longer": np.where(la > lb, A, np.where(lb > la, B, TIE)),
            "always_shorter": np.where(la < lb, A, np.where(lb < la, B, TIE)),
            "alphabetical": np.full(len(self.items), A),
        }

    def majority(self, cols: list[int]) -> np.ndarray:
        """Majority code of the chosen annotators per item (NaN on a tie for the top)."""
        sub = self.h[:, cols]
        counts = np.stack([(sub == c).sum(axis=1) for c in (A, TIE, B)], axis=1)
        top = counts.max(axis=1)
        winners = (counts == top[:, None]).sum(axis=1)
        return np.where(winners == 1, counts.argmax(axis=1).astype(float), np.nan)


def _pos(names: np.ndarray) -> np.ndarray:
    order = {s: i for i, s in enumerate(LIST_ORDER)}
    return np.array([order.get(s, len(order)) for s in names])


def _cluster_table(ref: np.ndarray, cand: np.ndarray, cluster: np.ndarray, n_clusters: int) -> np.ndarray:
    from metajudge.metrics.agreement import cluster_tables

    ok = ~(np.isnan(ref) | np.isnan(cand))
    t = cluster_tables(ref[ok].astype(np.int64), cand[ok].astype(np.int64), cluster[ok].astype(np.int64), 3)
    out = np.zeros((n_clusters, 9))
    out[: t.shape[0]] = t
    return out


def pairwise_agreement(pv: _Pairs, *, cluster: str, n_resamples: int, seed: int) -> pd.DataFrame:
    """Agreement with the 6-annotator majority and the leave-one-annotator-out ceiling, every rater, with
    percentile intervals from one joint bootstrap over clusters (instructions or pairs)."""
    from metajudge.metrics.agreement import TABLE_METRICS
    from metajudge.metrics.bootstrap import as_generator, bootstrap_stats, evaluate_replicates, percentile_interval

    rng = as_generator(seed)
    cl = pv.cluster if cluster == "instruction" else np.arange(len(pv.items))
    n_cl = int(cl.max()) + 1
    nh = len(pv.humans)
    full = pv.majority(list(range(nh)))
    loo = [pv.majority([k for k in range(nh) if k != h]) for h in range(nh)]
    cands = {**pv.cands, **pv.baselines}
    blocks, index = [], {}
    for name, c in cands.items():
        index[(name, "all")] = len(blocks)
        blocks.append(_cluster_table(full, c, cl, n_cl))
    for h in range(nh):
        index[("human_ceiling", h)] = len(blocks)
        blocks.append(_cluster_table(loo[h], pv.h[:, h], cl, n_cl))
        for name, c in cands.items():
            index[(name, h)] = len(blocks)
            blocks.append(_cluster_table(loo[h], c, cl, n_cl))
    stats = np.hstack(blocks)
    point = stats.sum(axis=0)
    reps = bootstrap_stats(stats, n_resamples, rng) if n_resamples > 0 else np.zeros((0, stats.shape[1]))

    def metric(m: str, key: tuple) -> tuple[float, np.ndarray]:
        fn = TABLE_METRICS[m].fn
        i = index[key]
        t_pt = point[9 * i: 9 * i + 9].reshape(3, 3)
        t_rp = reps[:, 9 * i: 9 * i + 9].reshape(-1, 3, 3)
        return float(evaluate_replicates(lambda t: fn(t, {}), t_pt)), evaluate_replicates(lambda t: fn(t, {}), t_rp)

    rows = []
    for name in ["human_ceiling", *cands]:
        row: dict = {"rater": name}
        if name != "human_ceiling":
            c = cands[name]
            row["n_items"] = int((~np.isnan(c)).sum())
            row["n_majority"] = int((~np.isnan(c) & ~np.isnan(full)).sum())  # 3-3 splits have no majority
            row["tie_rate"] = float(np.mean(c == TIE))
            row["percent_agreement"], _ = metric("percent_agreement", (name, "all"))
            row["cohen_kappa"], rk = metric("cohen_kappa", (name, "all"))
            row["cohen_kappa_ci_low"], row["cohen_kappa_ci_high"], _ = (
                percentile_interval(rk, 0.95) if len(rk) else (np.nan, np.nan, 0))
        else:
            row["n_items"] = len(pv.items)
            row["n_majority"] = int((~np.isnan(full)).sum())
            row["tie_rate"] = float(np.mean(pv.h == TIE))
        for m, col in (("percent_agreement", "loao_percent_agreement"), ("cohen_kappa", "loao_cohen_kappa")):
            pts, rps = zip(*[metric(m, (name, h)) for h in range(nh)])
            row[col] = float(np.mean(pts))
            if m == "cohen_kappa":
                if n_resamples > 0:
                    lo, hi, _ = percentile_interval(np.mean(np.stack(rps, axis=1), axis=1), 0.95)
                else:
                    lo = hi = np.nan
                row["loao_cohen_kappa_ci_low"], row["loao_cohen_kappa_ci_high"] = lo, hi
        rows.append(row)
    return pd.DataFrame(rows)


def rank_agreement(raw: dict, evaluators: list[str], *, n_resamples: int, seed: int) -> pd.DataFrame:
    """Kendall τ-b per instruction (evaluator win counts vs the annotators' mean rank score), averaged; and the
    leave-one-annotator-out version for annotators and evaluators (same references), instruction bootstrap."""
    import metajudge as mj
    from metajudge.metrics.bootstrap import as_generator, percentile_interval

    systems = raw["systems"]
    H = np.stack([[[d[s] for s in systems] for d in lists] for lists in raw["humans"].values()])  # (h, q, s)
    nh, nq, _ = H.shape
    cands = {e: np.array([[d[s] for s in systems] for d in raw["evaluators"][e]], dtype=float) for e in evaluators}
    pos = {s: i for i, s in enumerate(LIST_ORDER)}
    cands["list_order"] = np.tile([-float(pos.get(s, len(pos))) for s in systems], (nq, 1))

    def taus(ref: np.ndarray, cand: np.ndarray) -> np.ndarray:
        out = np.full(nq, np.nan)
        for q in range(nq):
            if np.ptp(ref[q]) > 0 and np.ptp(cand[q]) > 0:
                out[q] = mj.kendall_tau(ref[q], cand[q], n_resamples=0).estimate
        return out

    full = H.mean(axis=0)
    loo = [H[[k for k in range(nh) if k != h]].mean(axis=0) for h in range(nh)]
    per = {("human_ceiling", h): taus(loo[h], H[h]) for h in range(nh)}
    for e, c in cands.items():
        per[(e, "all")] = taus(full, c)
        for h in range(nh):
            per[(e, h)] = taus(loo[h], c)
    rng = as_generator(seed)
    draws = rng.integers(0, nq, size=(n_resamples, nq)) if n_resamples > 0 else np.zeros((0, nq), dtype=int)
    rows = []
    for name in ["human_ceiling", *cands]:
        row = {"rater": name}
        if name != "human_ceiling":
            row["kendall_tau_group"] = float(np.nanmean(per[(name, "all")])) if np.isfinite(
                per[(name, "all")]).any() else np.nan
        mat = np.stack([per[(name, h)] for h in range(nh)])             # (h, q)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            row["loao_kendall_tau_group"] = float(np.nanmean(np.nanmean(mat, axis=1)))
            lo = hi = np.nan
            if len(draws):
                rep = np.nanmean(np.stack([np.nanmean(mat[:, d], axis=1) for d in draws]), axis=1)
                lo, hi, _ = percentile_interval(rep, 0.95)
            row["loao_kendall_tau_group_ci_low"], row["loao_kendall_tau_group_ci_high"] = lo, hi
        row["instructions_ranked"] = int(np.isfinite(per[(name, "all")]).sum()) if name != "human_ceiling" else nq
        rows.append(row)
    return pd.DataFrame(rows)


def _figure(table: pd.DataFrame, out: Path) -> list[Path]:
    from metajudge.plots import new_figure

    fig = new_figure(7.16, 4.6)
    ax1, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    ev = table[table["kind"] == "evaluator"].sort_values("loao_cohen_kappa")
    y = np.arange(len(ev))
    est = ev["loao_cohen_kappa"].to_numpy()
    err = np.vstack([est - ev["loao_cohen_kappa_ci_low"].to_numpy(), ev["loao_cohen_kappa_ci_high"].to_numpy() - est])
    ax1.errorbar(est, y, xerr=np.nan_to_num(err), fmt="o", ms=4, capsize=2, color="#1f4e79", label="evaluator")
    hc = table[table["rater"] == "human_ceiling"].iloc[0]
    ax1.axvspan(hc["loao_cohen_kappa_ci_low"], hc["loao_cohen_kappa_ci_high"], color="#f4a261", alpha=0.35,
                label="human ceiling (95% CI)")
    ax1.axvline(hc["loao_cohen_kappa"], color="#e76f51", lw=1)
    lo = table[table["rater"] == "list_order"]
    if len(lo):
        ax1.axvline(float(lo["loao_cohen_kappa"].iloc[0]), color="#555555", ls="--", lw=1,
                    label="baseline: list order")
    ax1.axvline(0, color="#bbbbbb", lw=0.8)
    ax1.set_yticks(y, ev["rater"].tolist(), fontsize=7)
    ax1.set_xlabel("κ with the other annotators' majority (leave one out)", fontsize=8)
    ax1.legend(fontsize=6, loc="lower right")
    pub = table.dropna(subset=["rbo_published"])
    ax2.scatter(pub["rbo_published"], pub["rbo"], s=14, color="#1f4e79")
    for _, r in pub.iterrows():
        ax2.annotate(r["rater"], (r["rbo_published"], r["rbo"]), fontsize=6, xytext=(2, 2),
                     textcoords="offset points")
    lim = [0, 0.7]
    ax2.plot(lim, lim, color="#bbbbbb", lw=0.8)
    ax2.set_xlim(lim)
    ax2.set_ylim(lim)
    ax2.set_xlabel("RBO with the annotators, published (figure 5)", fontsize=8)
    ax2.set_ylabel("RBO recomputed from the released files", fontsize=8)
    return save(fig, out, "agreement")


def main(argv: list[str] | None = None) -> int:
    ap = parser(STUDY, __doc__, bootstrap=True)
    ap.add_argument("--release", choices=["original", "new"], default="original",
                    help="original (15 systems, default) or new (13 systems)")
    ap.add_argument("--cluster", choices=["instruction", "pair"], default="instruction",
                    help="bootstrap unit of table.csv's intervals (default instruction; metajudge's default: pair)")
    ap.add_argument("--rbo-p", type=float, default=0.8, help="RBO persistence (the authors': 0.8)")
    args = ap.parse_args(argv)

    import metajudge.goldsets.cobbler as cob
    from metajudge.goldsets import load_gold_set, run_gold_set

    opts = {"view": "pairs", "release": args.release}
    analysis = run_gold_set(STUDY, args.data_dir, options=opts, seed=args.seed, n_resamples=args.n_resamples,
                            compare_judges=False, probes=None)
    gs = load_gold_set(STUDY, args.data_dir, **opts)
    raw = cob.read_release(Path(gs.folder), args.release)
    evaluators = list(gs.table.judges)

    pv = _Pairs(gs.table)
    pw = pairwise_agreement(pv, cluster=args.cluster, n_resamples=args.n_resamples, seed=args.seed)
    rk = rank_agreement(raw, evaluators, n_resamples=args.n_resamples, seed=args.seed)
    rp = rbo_tables(raw, evaluators, args.rbo_p)
    he = rp[rp["kind"] != "human-human"].groupby("rater_b")["rbo"].mean()
    table = pw.merge(rk.drop(columns=["instructions_ranked"]), on="rater", how="left")
    table["rbo"] = table["rater"].map(he)
    table.loc[table["rater"] == "human_ceiling", "rbo"] = rp.loc[rp["kind"] == "human-human", "rbo"].mean()
    table["rbo_published"] = table["rater"].map(FIGURE5) if args.release == "original" else np.nan
    kinds = {"human_ceiling": "human", **{b: "baseline" for b in pv.baselines}}
    table["kind"] = table["rater"].map(kinds).fillna("evaluator")
    ranked = rk.set_index("rater")["instructions_ranked"]

    def note(r: pd.Series) -> str:
        if r["rater"] == "human_ceiling":
            return ("each annotator vs the majority (κ) or mean rank score (τ) of the other 5; percent agreement "
                    "and κ with the 6-annotator majority are undefined for an annotator (it is part of it); rbo "
                    "= mean over the 15 annotator pairs")
        parts = []
        if r["kind"] == "baseline":
            parts.append({"list_order": "ranks the systems in the release's fixed list order",
                          "always_longer": "prefers the longer answer (characters); equal lengths tie",
                          "always_shorter": "prefers the shorter answer (characters); equal lengths tie",
                          "alphabetical": "always prefers A (the alphabetically first system)"}[r["rater"]])
        n_rank = int(ranked.get(r["rater"], 0))
        if n_rank < len(raw["humans"]["annot_1"]):
            parts.append(f"a ranking on {n_rank} of {len(raw['humans']['annot_1'])} instructions (equal win counts "
                         "on the others: τ undefined there and left out)")
        if r["rater"] in ("llamav2", "mistral", "olmo"):
            parts.append("not a ranked system; its counts also include games against its own answer")
        if r["rater"] in FIGURE5 and args.release == "original":
            parts.append("rbo_published: figure5.py")
        return "; ".join(parts)

    table["note"] = table.apply(note, axis=1)
    order = {"evaluator": 0, "human": 1, "baseline": 2}
    table = table.sort_values(["kind", "rater"], key=lambda s: s.map(order) if s.name == "kind" else s,
                              kind="stable")[TABLE_COLUMNS].reset_index(drop=True)

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(table, out / "table.csv")
    write_csv(rp, out / "rbo_pairs.csv")
    res = analysis.results
    write_csv(res[res["section"].isin(["agreement", "ceiling", "baseline"])], out / "agreement.csv")
    write_csv(res[res["section"] == "probe"], out / "probes.csv")
    write_latex(table, out / "table.tex",
                caption="CoBBLEr: LLM evaluators vs 6 annotators (rank-implied pairwise preferences; leave-one-"
                        "annotator-out κ and per-instruction Kendall τ; RBO as the authors compute it, beside the "
                        "published figure 5).", label="tab:cobbler",
                columns=["rater", "tie_rate", "percent_agreement", "cohen_kappa", "loao_cohen_kappa",
                         "kendall_tau_group", "loao_kendall_tau_group", "rbo", "rbo_published"],
                headers=["Rater", "Ties", "Agreement", "κ", "κ (LOAO)", "τ", "τ (LOAO)", "RBO", "RBO (paper)"],
                digits=3)
    _figure(table, out)

    hc = table.set_index("rater").loc["human_ceiling"]
    ev = table[table["kind"] == "evaluator"].set_index("rater")
    best = ev["loao_cohen_kappa"].sort_values(ascending=False)
    print(f"{len(ev)} evaluators vs 6 annotators on {int(hc['n_items']):,} (instruction, pair) items")
    print(f"human ceiling (LOAO): κ {hc['loao_cohen_kappa']:.3f} [{hc['loao_cohen_kappa_ci_low']:.3f}, "
          f"{hc['loao_cohen_kappa_ci_high']:.3f}], τ per instruction {hc['loao_kendall_tau_group']:.3f}, "
          f"RBO between annotators {hc['rbo']:.3f}")
    print("best evaluators (LOAO κ): " + ", ".join(f"{k} {v:.3f}" for k, v in best.head(3).items()))
    lo = table.set_index("rater").loc["list_order"]
    print(f"list-order baseline: LOAO κ {lo['loao_cohen_kappa']:.3f}, τ {lo['loao_kendall_tau_group']:.3f}")
    hm_rows = rp[(rp["kind"] == "human-evaluator") & rp["rater_b"].isin(list(FIGURE5))]
    print(f"human-machine RBO (authors' convention, {hm_rows['rater_b'].nunique()} evaluators x 6 annotators): "
          f"{hm_rows['rbo'].mean():.3f} (published: {ABSTRACT_RBO}, figure 5 mean "
          f"{np.mean(list(FIGURE5.values())):.3f})")
    print(f"wrote {out}/table.csv, table.tex, rbo_pairs.csv, agreement.csv, probes.csv, agreement.pdf/.svg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
