"""From an :class:`~metajudge.align.AlignedTable` to a tidy :class:`~metajudge.results.Analysis`.

For each judge: agreement with the human reference (all metrics of the scale, item-clustered bootstrap),
the leave-one-annotator-out human ceiling with the judge scored against the *same* references, null
baselines, per-slice breakdowns and paired comparisons between judges (paired bootstrap of the difference,
exact McNemar for accuracy, Holm-adjusted p-values). METRICS.md §2–4.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .align import AlignedTable, aggregate_values
from .estimate import Estimate
from .metrics.agreement import DEFAULT_TABLE_METRICS, TABLE_METRICS, _proportion_counts, cluster_tables
from .metrics.bootstrap import (UndefinedMetricWarning, as_generator, bootstrap_stats, evaluate_replicates,
                                percentile_interval, wilson_interval)
from .metrics.correlation import correlation, correlation_levels
from .metrics.multirater import fleiss_kappa, krippendorff_alpha
from .results import RESULT_COLUMNS, Analysis

#: Headline metrics by scale kind (comparisons, slices, forest plot).
HEADLINE: dict[str, list[str]] = {
    "binary": ["cohen_kappa", "accuracy", "f1"],
    "nominal": ["cohen_kappa", "percent_agreement"],
    "pairwise": ["cohen_kappa", "percent_agreement"],
    "ordinal": ["cohen_kappa_quadratic", "krippendorff_alpha_ordinal", "percent_agreement"],
    "interval": ["pearson", "spearman"],
}
CORRELATIONS = ("pearson", "spearman", "kendall_tau")


class Progress:
    """A minimal progress line on stderr: silent when ``quiet`` and when stderr is not a terminal (a log file,
    a pipe, CI), so redirected output never fills with carriage returns."""

    def __init__(self, total: int, quiet: bool = False, label: str = "bootstrap") -> None:
        self.total, self.done, self.label = max(total, 1), 0, label
        self.quiet = quiet or not _stderr_is_terminal()

    def step(self, what: str = "") -> None:
        self.done += 1
        if not self.quiet:
            width = 24
            filled = int(width * self.done / self.total)
            sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                             f"{self.done}/{self.total} {what[:40]:<40}")
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def _stderr_is_terminal() -> bool:
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def _row(section: str, judge: str, kind: str, reference: str, e: Estimate, *, level: str = "item",
         slice_: str = "all", p_value: float = np.nan, p_adjusted: float = np.nan) -> dict[str, Any]:
    return {"section": section, "judge": judge, "rater_kind": kind, "reference": reference, "metric": e.metric,
            "level": level, "slice": slice_, "estimate": e.estimate, "ci_low": e.ci_low, "ci_high": e.ci_high,
            "confidence_level": e.confidence_level, "n": e.n, "method": e.method, "note": e.note,
            "p_value": p_value, "p_adjusted": p_adjusted, "probe": ""}


def _table_metric_names(table: AlignedTable, metrics: Sequence[str] | None) -> list[str]:
    kind = table.scale.kind
    if kind == "interval":
        return []
    names = list(DEFAULT_TABLE_METRICS[kind]) if metrics is None else [m for m in metrics if m in TABLE_METRICS]
    names = [m for m in names if m not in CORRELATIONS and m != "kendall_tau_c"]  # reported by correlation level
    if kind != "binary":
        names = [m for m in names if not TABLE_METRICS[m].binary]
    if kind in ("nominal",):
        names = [m for m in names if not TABLE_METRICS[m].ordered]
    return names


class _Pairs:
    """Reference/candidate code pairs with item clusters, for one candidate."""

    def __init__(self, ref: np.ndarray, cand: np.ndarray, items: np.ndarray) -> None:
        self.ref, self.cand, self.items = ref, cand, items


def _judge_pairs(table: AlignedTable, rater: str, reference: pd.Series) -> _Pairs:
    rows = table.rows(rater)
    r = reference.reindex(rows["item_id"].to_numpy()).to_numpy(dtype=float)
    v = rows["value"].to_numpy(dtype=float)
    ok = ~(np.isnan(r) | np.isnan(v))
    return _Pairs(r[ok], v[ok], rows["item_id"].to_numpy()[ok])


class _TableBatch:
    """Several (reference, candidate) tables resampled together over one set of items (paired bootstrap)."""

    def __init__(self, k: int, items: Sequence[str]) -> None:
        self.k = k
        self.items = pd.Index(items)
        self.blocks: list[np.ndarray] = []

    def add(self, p: _Pairs) -> int:
        idx = self.items.get_indexer(p.items)
        keep = idx >= 0
        flat = np.zeros((len(self.items), self.k * self.k))
        if keep.any():
            t = cluster_tables(p.ref[keep].astype(np.int64), p.cand[keep].astype(np.int64),
                               idx[keep].astype(np.int64), self.k)
            flat[: t.shape[0]] = t
        self.blocks.append(flat)
        return len(self.blocks) - 1

    def point(self) -> list[np.ndarray]:
        return [b.sum(axis=0).reshape(self.k, self.k) for b in self.blocks]

    def replicates(self, n_resamples: int, rng: np.random.Generator) -> list[np.ndarray]:
        if n_resamples <= 0 or len(self.items) == 0:
            return [np.zeros((0, self.k, self.k)) for _ in self.blocks]
        stats = np.hstack(self.blocks)
        sums = bootstrap_stats(stats, n_resamples, rng)
        kk = self.k * self.k
        return [sums[:, i * kk:(i + 1) * kk].reshape(-1, self.k, self.k) for i in range(len(self.blocks))]


def _estimate_from(name: str, fn: Callable[[np.ndarray], np.ndarray], point_t: np.ndarray, reps_t: np.ndarray,
                   n: int, cl: float, n_resamples: int, undefined: str) -> Estimate:
    point = float(evaluate_replicates(fn, point_t))
    notes = []
    lo = hi = float("nan")
    method = "none"
    if n == 0 or float(np.sum(point_t)) == 0:
        return Estimate(name, float("nan"), lo, hi, cl, n, method, "undefined: no item with both a reference "
                        "label and a usable judgment")
    if np.isnan(point):
        notes.append(f"undefined: {undefined}")
    if len(reps_t):
        lo, hi, bad = percentile_interval(evaluate_replicates(fn, reps_t), cl)
        method = "bootstrap-cluster"
        if bad:
            notes.append(f"{bad} of {n_resamples} bootstrap replicates undefined and left out")
    return Estimate(name, point, lo, hi, cl, n, method, "; ".join(notes))


def _table_estimate(m: str, ctx: dict[str, Any], pt: np.ndarray, rp: np.ndarray, n_items: int, n_rows: int,
                    cl: float, n_resamples: int) -> Estimate:
    """A table metric with its interval: Wilson for proportions when every item has one row, else the
    item-clustered bootstrap."""
    spec = TABLE_METRICS[m]
    e = _estimate_from(m, _kernel(m, ctx), pt, rp, n_items, cl, n_resamples, spec.undefined)
    if spec.proportion is not None and n_rows == n_items and n_items > 0 and np.isfinite(e.estimate):
        succ, den = _proportion_counts(pt, spec.proportion, ctx)
        lo, hi = wilson_interval(succ, den, cl)
        note = "; ".join(x for x in e.note.split("; ") if "bootstrap replicates" not in x)
        e = Estimate(m, e.estimate, lo, hi, cl, n_items, "wilson", note)
    return e


def _kernel(name: str, ctx: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    spec = TABLE_METRICS[name]
    return lambda t: spec.fn(t, ctx)


def analyze(table: AlignedTable, *, metrics: Sequence[str] | None = None, n_resamples: int = 1000,
            confidence_level: float = 0.95, seed: int = 0, compare_judges: bool = True, quiet: bool = True,
            config: dict[str, Any] | None = None, provenance: dict[str, Any] | None = None,
            title: str = "metajudge report", probes: Sequence[str] | None = (),
            probe_options: dict[str, Any] | None = None, strict_probes: bool = False) -> Analysis:
    """Run every agreement analysis on an aligned table.

    Parameters
    ----------
    table : AlignedTable
    metrics : sequence of str, optional
        Table metrics to report (default: the set for the scale kind, see
        :data:`metajudge.metrics.DEFAULT_TABLE_METRICS`).
    n_resamples, confidence_level, seed
        Bootstrap settings; one seeded Generator drives every resample, so the same inputs and seed give
        the same numbers.
    compare_judges : bool
        Paired comparisons of every pair of judges.
    quiet : bool
        No progress line on stderr.
    probes : sequence of str or None
        Bias probes to run (:data:`metajudge.probes.PROBES`); ``None`` runs every probe the data allows
        (the others are listed as skipped with the reason); empty runs none.
    probe_options : dict
        probe name -> options (see :class:`metajudge.config.ProbesConfig`).
    strict_probes : bool
        Raise :class:`~metajudge.probes.ProbeUnavailable` when a requested probe cannot run.
    """
    rng = as_generator(seed)
    scale = table.scale
    cl = confidence_level
    rows: list[dict[str, Any]] = []
    confusion: dict[str, pd.DataFrame] = {}
    notes = list(table.notes)
    names = _table_metric_names(table, metrics)
    headline = [m for m in HEADLINE[scale.kind] if m in names or m in CORRELATIONS]
    ordered = scale.kind in ("ordinal", "interval")
    n_pairs = len(table.judges) * (len(table.judges) - 1) // 2 if compare_judges else 0
    steps = len(table.judges) * (1 + len(table.slices)) + 3 + n_pairs
    prog = Progress(steps, quiet, "metajudge")
    ref = table.reference
    ref_name = f"{table.aggregate}(humans)" if len(table.humans) > 1 else (table.humans[0] if table.humans else "gold")
    k = scale.n_levels if scale.categorical else 0
    ctx: dict[str, Any] = {"values": scale.level_values() if scale.categorical else None,
                           "positive": scale.positive_index if scale.kind == "binary" else 1}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # empty means of undefined replicates: NaN is handled
        # ---------------------------------------------------------------- agreement per judge
        for judge in table.judges:
            p = _judge_pairs(table, judge, ref)
            if scale.categorical:
                batch = _TableBatch(k, pd.unique(p.items))
                batch.add(p)
                pt, = batch.point()
                rp, = batch.replicates(n_resamples, rng)
                n_items = len(batch.items)
                for m in names:
                    e = _table_estimate(m, ctx, pt, rp, n_items, len(p.items), cl, n_resamples)
                    rows.append(_row("agreement", judge, "judge", ref_name, e))
                confusion[judge] = pd.DataFrame(pt.astype(int), index=list(scale.levels or []),
                                                columns=list(scale.levels or []))
            else:
                e = _alpha_pair(ref, table, judge, "interval", cl, n_resamples, rng)
                rows.append(_row("agreement", judge, "judge", ref_name, e))
            if ordered:
                rows += _correlation_rows(table, judge, ref, ref_name, cl, n_resamples, rng)
            prog.step(judge)

        # ---------------------------------------------------------------- inter-annotator reliability
        hw = table.wide("human")
        if hw.shape[1] >= 2:
            lv = "ordinal" if scale.kind == "ordinal" else ("interval" if scale.kind == "interval" else "nominal")
            levels_arg = list(range(k)) if scale.categorical else None
            rows.append(_row("ceiling", "humans", "human", "each other",
                             krippendorff_alpha(hw.to_numpy(dtype=float), level=lv, levels=levels_arg,
                                                confidence_level=cl, n_resamples=n_resamples, rng=rng)))
            if scale.categorical:
                rows.append(_row("ceiling", "humans", "human", "each other",
                                 fleiss_kappa(hw.to_numpy(dtype=float), levels=levels_arg, confidence_level=cl,
                                              n_resamples=n_resamples, rng=rng)))
        prog.step("inter-annotator")

        # ---------------------------------------------------------------- human ceiling (LOAO)
        ceiling_rows, ceiling_notes = _ceiling(table, names + ([m for m in CORRELATIONS] if ordered else []),
                                               ctx, cl, n_resamples, rng)
        rows += ceiling_rows
        notes += ceiling_notes
        prog.step("human ceiling")

        # ---------------------------------------------------------------- baselines
        rows += _baselines(table, names, ctx, ref, ref_name, cl, n_resamples, rng)
        prog.step("baselines")

        # ---------------------------------------------------------------- slices
        for col in table.slices:
            for judge in table.judges:
                rows += _slice_rows(table, judge, col, headline, names, ctx, ref, ref_name, cl, n_resamples, rng)
                prog.step(f"slice {col}")

        # ---------------------------------------------------------------- judge comparisons
        if compare_judges and len(table.judges) > 1:
            rows += _comparisons(table, headline, names, ctx, ref, cl, n_resamples, rng, prog)
        probe_results = []
        if probes is None or len(probes):
            from .probes import run_probes

            probe_results = run_probes(table, probes=probes, options=probe_options, confidence_level=cl,
                                       n_resamples=n_resamples, rng=rng, strict=strict_probes)
            for pr in probe_results:
                rows += pr.rows
        while prog.done < prog.total:
            prog.step("done")

    res = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    res["probe"] = res["probe"].fillna("")
    res = _holm(res)
    from .disagreements import worst_disagreements_or_empty  # never raises: a display table must not fail a run

    return Analysis(results=res, coverage=table.coverage, problems=table.problems, confusion=confusion,
                    scale=scale, config=config or {}, provenance=provenance or {}, notes=notes, title=title,
                    probes=probe_results, extra={"disagreements": worst_disagreements_or_empty(table)})


def _holm(res: pd.DataFrame) -> pd.DataFrame:
    from statsmodels.stats.multitest import multipletests

    # one family per section: judge comparisons, and bias probes (across probes × judges)
    for section in res["section"].unique():
        mask = (res["section"] == section) & res["p_value"].notna()
        if mask.any():
            res.loc[mask, "p_adjusted"] = multipletests(res.loc[mask, "p_value"].to_numpy(), method="holm")[1]
    return res


def _judge_item_means(table: AlignedTable, judge: str) -> pd.Series:
    rows = table.rows(judge)
    return rows.groupby("item_id", sort=True)["value"].mean()


def _alpha_pair(ref: pd.Series, table: AlignedTable, judge: str, level: str, cl: float, n_resamples: int,
                rng: np.random.Generator) -> Estimate:
    jm = _judge_item_means(table, judge)
    both = pd.concat([ref.rename("ref"), jm.rename("judge")], axis=1, join="inner").dropna()
    return krippendorff_alpha(both.to_numpy(), level=level, confidence_level=cl, n_resamples=n_resamples, rng=rng)


def _correlation_rows(table: AlignedTable, judge: str, ref: pd.Series, ref_name: str, cl: float,
                      n_resamples: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    values = table.scale.level_values() if table.scale.categorical else None
    jm = _judge_item_means(table, judge)
    both = pd.concat([ref.rename("ref"), jm.rename("judge")], axis=1, join="inner").dropna()
    x = both["ref"].to_numpy()
    y = both["judge"].to_numpy()
    if values is not None:
        x = values[x.astype(int)] if np.all(x == np.round(x)) else np.interp(x, np.arange(len(values)), values)
        y = np.interp(y, np.arange(len(values)), values)
    attrs = table.item_attrs
    groups = systems = None
    if attrs is not None and "group" in attrs:
        groups = attrs["group"].reindex(both.index).to_numpy()
    if attrs is not None and "system" in attrs:
        systems = attrs["system"].reindex(both.index).to_numpy()
    out = []
    for kind in CORRELATIONS:
        levels = correlation_levels(x, y, kind=kind, groups=groups, systems=systems, confidence_level=cl,
                                    n_resamples=n_resamples, rng=rng)
        for lvl, e in levels.items():
            out.append(_row("agreement", judge, "judge", ref_name + " (item mean of judge)", e, level=lvl))
    return out


def _ceiling_labels(who: str, n_items: int) -> tuple[str, str, str]:
    """(judge, rater_kind, reference) of a ceiling row: the human ceiling, the human ceiling restricted to one
    judge's items ("human@<judge>"), or a judge scored against the same leave-one-out references."""
    if who == "human":
        return "human_ceiling", "human", "leave-one-annotator-out"
    if who.startswith("human@"):
        return (f"human_ceiling@{who[6:]}", "human",
                f"leave-one-annotator-out, on the {n_items} items {who[6:]} rated")
    return who, "judge", "leave-one-annotator-out"


def _ceiling(table: AlignedTable, names: list[str], ctx: dict[str, Any], cl: float, n_resamples: int,
             rng: np.random.Generator) -> tuple[list[dict[str, Any]], list[str]]:
    """Leave-one-annotator-out: human h vs aggregate(others) and each judge vs the same aggregate."""
    scale = table.scale
    humans = table.humans
    if len(humans) < 2:
        return [], ["human ceiling not computed: the gold set has a single annotator"]
    hrows = table.data[table.data["rater_kind"] == "human"]
    refs: dict[str, pd.Series] = {}
    rated: dict[str, int] = {}
    for h in humans:
        others = hrows[hrows["rater"] != h]
        agg, _ = aggregate_values(others["value"], others["item_id"], table.aggregate, scale)
        mine = hrows[hrows["rater"] == h].set_index("item_id")["value"]
        refs[h] = agg.reindex(mine.index).dropna()
        rated[h] = len(mine)
    if not scale.categorical or not names:
        return _ceiling_correlations(table, refs, cl, n_resamples, rng), []
    k = scale.n_levels
    items = sorted(set().union(*[set(r.index) for r in refs.values()]))
    batch = _TableBatch(k, items)
    index: dict[tuple[str, str], int] = {}
    covered: dict[str, set[str]] = {"human": set()}  # items behind each row of the ceiling
    for h in humans:
        r = refs[h]
        mine = hrows[hrows["rater"] == h].set_index("item_id")["value"].reindex(r.index)
        index[(h, "human")] = batch.add(_Pairs(r.to_numpy(), mine.to_numpy(), r.index.to_numpy()))
        covered["human"] |= set(r.index)
        for j in table.judges:
            p = _judge_pairs(table, j, r)
            index[(h, j)] = batch.add(p)
            covered.setdefault(j, set()).update(p.items)
            # the judge is scored on the items it rated: score the human on exactly those items too
            rj = r[pd.Index(pd.unique(np.asarray(p.items, dtype=object))).get_indexer(r.index) >= 0]
            index[(h, f"human@{j}")] = batch.add(_Pairs(rj.to_numpy(), mine.reindex(rj.index).to_numpy(),
                                                        rj.index.to_numpy()))
            covered.setdefault(f"human@{j}", set()).update(rj.index)
    pts = batch.point()
    reps = batch.replicates(n_resamples, rng)
    out = []
    table_names = [m for m in names if m in TABLE_METRICS]
    lost = {h: rated[h] - len(refs[h]) for h in humans}
    coverage_note = ""
    if any(lost.values()):
        coverage_note = (f"; the others' {table.aggregate} is undefined (tied) on "
                         f"{min(lost.values())}–{max(lost.values())} of each annotator's items, which are left out "
                         "for the human and the judges alike")
    # a separate human ceiling on a judge's items only where that judge skipped some of the ceiling's items
    partial = [j for j in table.judges if covered[f"human@{j}"] != covered["human"]]
    for m in table_names:
        fn = _kernel(m, ctx)
        for who in ["human"] + table.judges + [f"human@{j}" for j in partial]:
            vals_pt = np.array([float(evaluate_replicates(fn, pts[index[(h, who)]])) for h in humans])
            if len(reps[0]):
                vals_rep = np.stack([evaluate_replicates(fn, reps[index[(h, who)]]) for h in humans], axis=1)
                rep_mean = np.nanmean(vals_rep, axis=1) if np.isfinite(vals_rep).any() else np.full(len(vals_rep), np.nan)
                lo, hi, bad = percentile_interval(rep_mean, cl)
                method = "bootstrap-cluster"
            else:
                lo = hi = float("nan")
                bad = 0
                method = "none"
            defined = np.isfinite(vals_pt)
            note = (f"mean over {int(defined.sum())} of {len(humans)} leave-one-out references"
                    + ("" if defined.all() else f"; {int((~defined).sum())} undefined and left out")
                    + (f"; {bad} of {n_resamples} bootstrap replicates undefined and left out" if bad else "")
                    + coverage_note)
            point = float(vals_pt[defined].mean()) if defined.any() else float("nan")
            n_who = len(covered[who])
            if who in table.judges and who in partial:
                note += f"; {who} rated {n_who} of the {len(covered['human'])} items: compare it with human_ceiling@{who}"
            e = Estimate(m, point, lo, hi, cl, n_who, method, note)
            out.append(_row("ceiling", *_ceiling_labels(who, n_who), e))
    for h in humans:  # per-annotator rows (point estimates with the same bootstrap)
        for m in table_names[:1] + [x for x in table_names if x in HEADLINE[scale.kind]][:2]:
            fn = _kernel(m, ctx)
            e = _estimate_from(m, fn, pts[index[(h, "human")]], reps[index[(h, "human")]],
                               int(refs[h].shape[0]), cl, n_resamples, TABLE_METRICS[m].undefined)
            out.append(_row("ceiling", h, "human", f"{table.aggregate}(humans except {h})", e))
    out = list({(r["judge"], r["metric"]): r for r in out}.values())
    return out, []


def _ceiling_correlations(table: AlignedTable, refs: dict[str, pd.Series], cl: float, n_resamples: int,
                          rng: np.random.Generator) -> list[dict[str, Any]]:
    """LOAO ceiling for interval scales: mean Pearson/Spearman of h vs the others' mean, and of each judge
    (item mean) vs the same references; item bootstrap with common weights for all of them."""
    from .metrics.correlation import _weighted_midranks, _weighted_pearson_rows

    hrows = table.data[table.data["rater_kind"] == "human"]
    humans = list(refs)
    who_all = ["human"] + list(table.judges)
    items = pd.Index(sorted(set().union(*[set(r.index) for r in refs.values()])))
    n = len(items)
    pairs: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for h, r in refs.items():
        idx = items.get_indexer(r.index)
        for who in who_all:
            if who == "human":
                c = hrows[hrows["rater"] == h].set_index("item_id")["value"].reindex(r.index).to_numpy(dtype=float)
            else:
                c = _judge_item_means(table, who).reindex(r.index).to_numpy(dtype=float)
            rv = r.to_numpy(dtype=float)
            ok = ~(np.isnan(c) | np.isnan(rv))
            x, y, m = np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool)
            x[idx[ok]], y[idx[ok]], m[idx[ok]] = rv[ok], c[ok], True
            pairs[(h, who)] = (x, y, m)
    partial = []
    for j in table.judges:  # the human scored on exactly the items each judge rated
        for h in humans:
            xh, yh, mh = pairs[(h, "human")]
            pairs[(h, f"human@{j}")] = (xh, yh, mh & pairs[(h, j)][2])
        if any((pairs[(h, "human")][2] != pairs[(h, f"human@{j}")][2]).any() for h in humans):
            partial.append(f"human@{j}")
    who_all = who_all + partial
    kinds = ("pearson", "spearman")
    reps = {(k, w): np.full((n_resamples, len(humans)), np.nan) for k in kinds for w in who_all}
    if n_resamples > 0 and n > 0:
        from .metrics.bootstrap import item_weights

        inv = {key: (np.unique(v[0], return_inverse=True)[1], np.unique(v[1], return_inverse=True)[1])
               for key, v in pairs.items()}
        pos = 0
        for wblock in item_weights(n, n_resamples, rng):
            b = wblock.shape[0]
            for hi_, h in enumerate(humans):
                for who in who_all:
                    x, y, m = pairs[(h, who)]
                    w = wblock * m
                    with np.errstate(invalid="ignore", divide="ignore"):
                        reps[("pearson", who)][pos:pos + b, hi_] = _weighted_pearson_rows(w, x, y)
                        ix, iy = inv[(h, who)]
                        rx = _weighted_midranks(w, ix, int(ix.max()) + 1)
                        ry = _weighted_midranks(w, iy, int(iy.max()) + 1)
                        reps[("spearman", who)][pos:pos + b, hi_] = _weighted_pearson_rows(w, rx, ry)
            pos += b
    out = []
    for kind in kinds:
        for who in who_all:
            vals = np.array([correlation(pairs[(h, who)][0][pairs[(h, who)][2]],
                                         pairs[(h, who)][1][pairs[(h, who)][2]], kind=kind, n_resamples=0).estimate
                             for h in humans])
            d = np.isfinite(vals)
            lo = hi = float("nan")
            method = "none"
            if n_resamples > 0 and n > 0:
                rr = reps[(kind, who)]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    lo, hi, _ = percentile_interval(np.nanmean(rr[:, d], axis=1) if d.any() else rr[:, 0], cl)
                method = "bootstrap-cluster"
            n_who = int(np.logical_or.reduce([pairs[(h, who)][2] for h in humans]).sum())
            e = Estimate(kind, float(vals[d].mean()) if d.any() else float("nan"), lo, hi, cl, n_who, method,
                         f"mean over {int(d.sum())} of {len(humans)} leave-one-out references")
            out.append(_row("ceiling", *_ceiling_labels(who, n_who), e))
    return out


def _baseline_raters(table: AlignedTable, ref: pd.Series, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """Null raters on the reference items: one seeded draw each (item_id, value)."""
    scale = table.scale
    items = ref.dropna().index.to_numpy()
    n = len(items)
    out: dict[str, pd.DataFrame] = {}
    if n == 0:
        return out
    if not scale.categorical:
        hv = table.data.loc[table.data["rater_kind"] == "human", "value"].dropna().to_numpy(dtype=float)
        lo_v = scale.minimum if scale.minimum is not None else float(hv.min())
        hi_v = scale.maximum if scale.maximum is not None else float(hv.max())
        out["random_uniform"] = pd.DataFrame({"item_id": items, "value": rng.uniform(lo_v, hi_v, n)})
        out["random_prior"] = pd.DataFrame({"item_id": items, "value": rng.permutation(ref.dropna().to_numpy())})
        return out
    k = scale.n_levels
    hv = table.data.loc[table.data["rater_kind"] == "human", "value"].dropna().astype(int).to_numpy()
    prior = np.bincount(hv, minlength=k) / max(len(hv), 1)
    out["random_uniform"] = pd.DataFrame({"item_id": items, "value": rng.integers(0, k, n).astype(float)})
    out["random_prior"] = pd.DataFrame({"item_id": items, "value": rng.choice(k, n, p=prior).astype(float)})
    out["majority_class"] = pd.DataFrame({"item_id": items, "value": np.full(n, float(np.argmax(prior)))})
    if scale.kind == "pairwise":
        jrows = table.data[(table.data["rater_kind"] == "judge") & table.data["order"].notna()]
        if len(jrows):
            orders = jrows.drop_duplicates(["item_id", "order"])[["item_id", "order"]]
            orders = orders[orders["item_id"].isin(items)]
            first = np.where(orders["order"].to_numpy() == "BA", k - 1, 0).astype(float)
            out["always_first"] = pd.DataFrame({"item_id": orders["item_id"].to_numpy(), "value": first})
        else:
            out["always_first"] = pd.DataFrame({"item_id": items, "value": np.zeros(n)})
        attrs = table.item_attrs
        if attrs is not None and {"length_a", "length_b"} <= set(attrs.columns):
            la = pd.to_numeric(attrs["length_a"], errors="coerce").reindex(items).to_numpy()
            lb = pd.to_numeric(attrs["length_b"], errors="coerce").reindex(items).to_numpy()
            tie = 1.0 if k == 3 else np.nan
            longer = np.where(la > lb, 0.0, np.where(lb > la, float(k - 1), tie))
            shorter = np.where(la < lb, 0.0, np.where(lb < la, float(k - 1), tie))
            out["always_longer"] = pd.DataFrame({"item_id": items, "value": longer})
            out["always_shorter"] = pd.DataFrame({"item_id": items, "value": shorter})
    return out


def _baselines(table: AlignedTable, names: list[str], ctx: dict[str, Any], ref: pd.Series, ref_name: str,
               cl: float, n_resamples: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    out = []
    k = table.scale.n_levels if table.scale.categorical else 0
    for bname, df in _baseline_raters(table, ref, rng).items():
        r = ref.reindex(df["item_id"].to_numpy()).to_numpy(dtype=float)
        v = df["value"].to_numpy(dtype=float)
        ok = ~(np.isnan(r) | np.isnan(v))
        if not table.scale.categorical:
            ests = [krippendorff_alpha(np.column_stack([r[ok], v[ok]]), level="interval", confidence_level=cl,
                                       n_resamples=n_resamples, rng=rng)]
            ests += [correlation(r[ok], v[ok], kind=kind, confidence_level=cl, n_resamples=n_resamples, rng=rng)
                     for kind in ("pearson", "spearman")]
            for e in ests:
                e = Estimate(e.metric, e.estimate, e.ci_low, e.ci_high, e.confidence_level, e.n, e.method,
                             "; ".join(x for x in [e.note, "one seeded random draw"] if x))
                out.append(_row("baseline", bname, "baseline", ref_name, e,
                                level="item" if e.metric.startswith("krippendorff") else "dataset"))
            continue
        p = _Pairs(r[ok], v[ok], df["item_id"].to_numpy()[ok])
        batch = _TableBatch(k, pd.unique(p.items))
        batch.add(p)
        pt, = batch.point()
        rp, = batch.replicates(n_resamples, rng)
        for m in names:
            e = _table_estimate(m, ctx, pt, rp, len(batch.items), len(p.items), cl, n_resamples)
            extra = ""
            if bname.startswith("random"):
                extra = "one seeded random draw"
            elif (~ok).sum() and bname.startswith("always_"):
                extra = f"{int((~ok).sum())} item(s) without a verdict (equal lengths on a scale without ties)"
            if extra:
                e = Estimate(e.metric, e.estimate, e.ci_low, e.ci_high, e.confidence_level, e.n, e.method,
                             "; ".join(x for x in [e.note, extra] if x))
            out.append(_row("baseline", bname, "baseline", ref_name, e))
    return out


def _slice_rows(table: AlignedTable, judge: str, col: str, headline: list[str], names: list[str],
                ctx: dict[str, Any], ref: pd.Series, ref_name: str, cl: float, n_resamples: int,
                rng: np.random.Generator) -> list[dict[str, Any]]:
    rows = table.rows(judge)
    out = []
    if col not in rows:
        return out
    for val in sorted(rows[col].dropna().astype(str).unique()):
        sub = rows[rows[col].astype(str) == val]
        r = ref.reindex(sub["item_id"].to_numpy()).to_numpy(dtype=float)
        v = sub["value"].to_numpy(dtype=float)
        ok = ~(np.isnan(r) | np.isnan(v))
        label = f"{col}={val}"
        if table.scale.categorical:
            p = _Pairs(r[ok], v[ok], sub["item_id"].to_numpy()[ok])
            batch = _TableBatch(table.scale.n_levels, pd.unique(p.items))
            batch.add(p)
            pt, = batch.point()
            rp, = batch.replicates(n_resamples, rng)
            for m in [h for h in headline if h in names]:
                e = _table_estimate(m, ctx, pt, rp, len(batch.items), len(p.items), cl, n_resamples)
                out.append(_row("agreement", judge, "judge", ref_name, e, slice_=label))
        else:  # as the overall rows: the judge's item mean against the reference, one pair per item
            means = sub.groupby("item_id", sort=True)["value"].mean()
            rr = ref.reindex(means.index).to_numpy(dtype=float)
            for kind in ("pearson", "spearman"):
                e = correlation(rr, means.to_numpy(), kind=kind, confidence_level=cl, n_resamples=n_resamples,
                                rng=rng)
                out.append(_row("agreement", judge, "judge", ref_name + " (item mean of judge)", e,
                                level="dataset", slice_=label))
    return out


def _comparisons(table: AlignedTable, headline: list[str], names: list[str], ctx: dict[str, Any],
                 ref: pd.Series, cl: float, n_resamples: int, rng: np.random.Generator,
                 prog: Progress | None = None) -> list[dict[str, Any]]:
    """Paired bootstrap of Δ(metric) on common items; exact McNemar on item-level correctness."""
    from statsmodels.stats.contingency_tables import mcnemar

    out = []
    judges = table.judges
    scale = table.scale
    modal_cache: dict[str, pd.Series] = {}
    for a_i in range(len(judges)):
        for b_i in range(a_i + 1, len(judges)):
            a, b = judges[a_i], judges[b_i]
            if prog is not None:
                prog.step(f"{a} vs {b}")
            pa, pb = _judge_pairs(table, a, ref), _judge_pairs(table, b, ref)
            common = sorted(set(pa.items) & set(pb.items))
            label = f"{a} vs {b}"
            if not common:
                continue
            if scale.categorical:
                batch = _TableBatch(scale.n_levels, common)
                batch.add(pa)
                batch.add(pb)
                (ta, tb), (ra, rb) = batch.point(), batch.replicates(n_resamples, rng)
                for m in [h for h in headline if h in names]:
                    fn = _kernel(m, ctx)
                    d_pt = float(evaluate_replicates(fn, ta) - evaluate_replicates(fn, tb))
                    lo = hi = p = float("nan")
                    note = f"{a} minus {b} on {len(common)} common items"
                    if len(ra):
                        d = evaluate_replicates(fn, ra) - evaluate_replicates(fn, rb)
                        lo, hi, bad = percentile_interval(d, cl)
                        dd = d[np.isfinite(d)]
                        if dd.size:
                            p = float(min(1.0, 2 * min((dd <= 0).mean(), (dd >= 0).mean())))
                            p = max(p, 1.0 / (dd.size + 1))
                    e = Estimate(f"{m}_difference", d_pt, lo, hi, cl, len(common), "paired-bootstrap", note)
                    out.append(_row("comparison", label, "comparison", "same items, same resamples", e, p_value=p))
                # exact McNemar on item-level correctness (modal verdict per item)
                ca = _item_correct(table, a, ref, common, modal_cache)
                cb = _item_correct(table, b, ref, common, modal_cache)
                t = np.array([[np.sum(ca & cb), np.sum(ca & ~cb)], [np.sum(~ca & cb), np.sum(~ca & ~cb)]])
                res = mcnemar(t, exact=True)
                acc = Estimate("accuracy_difference", float(ca.mean() - cb.mean()), float("nan"), float("nan"), cl,
                               len(common), "mcnemar-exact",
                               f"discordant items: {t[0, 1]} only {a} right, {t[1, 0]} only {b} right; "
                               "item-level verdict = the judge's most frequent value")
                out.append(_row("comparison", label, "comparison", "same items", acc, p_value=float(res.pvalue)))
            else:
                for kind in ("pearson", "spearman"):
                    ma = _judge_item_means(table, a).reindex(common)
                    mb = _judge_item_means(table, b).reindex(common)
                    rr = ref.reindex(common)
                    ok = (rr.notna() & ma.notna() & mb.notna()).to_numpy()
                    x, ya, yb = rr.to_numpy()[ok], ma.to_numpy()[ok], mb.to_numpy()[ok]
                    from scipy import stats as sps

                    if len(x) < 3 or min(np.ptp(x), np.ptp(ya), np.ptp(yb)) == 0:
                        e = Estimate(f"{kind}_difference", float("nan"), float("nan"), float("nan"), cl, len(x),
                                     "none", f"undefined: {a} and {b} share {len(x)} item(s) with a reference, "
                                     "too few (or a constant side) for a correlation")
                        out.append(_row("comparison", label, "comparison", "same items", e))
                        continue

                    def corr(x_, y_):
                        return sps.pearsonr(x_, y_).statistic if kind == "pearson" else sps.spearmanr(x_, y_).statistic
                    d_pt = float(corr(x, ya) - corr(x, yb))
                    reps = []
                    n = len(x)
                    for _ in range(n_resamples):
                        idx = rng.integers(0, n, n)
                        with np.errstate(invalid="ignore", divide="ignore"):
                            reps.append(corr(x[idx], ya[idx]) - corr(x[idx], yb[idx]))
                    reps_a = np.asarray(reps, dtype=float)
                    lo, hi, _ = percentile_interval(reps_a, cl) if n_resamples else (np.nan, np.nan, 0)
                    dd = reps_a[np.isfinite(reps_a)]
                    p = float(max(min(1.0, 2 * min((dd <= 0).mean(), (dd >= 0).mean())), 1 / (dd.size + 1))) if dd.size else float("nan")
                    e = Estimate(f"{kind}_difference", d_pt, lo, hi, cl, n, "paired-bootstrap",
                                 f"{a} minus {b} on {n} common items")
                    out.append(_row("comparison", label, "comparison", "same items, same resamples", e, p_value=p))
    return out


def _item_modal(table: AlignedTable, judge: str) -> pd.Series:
    """Each item's most frequent value among a judge's rows (ties: the smallest code)."""
    rows = table.rows(judge)
    cnt = rows.groupby(["item_id", "value"], sort=True).size().rename("n").reset_index()
    cnt = cnt.sort_values(["item_id", "n", "value"], ascending=[True, False, True], kind="stable")
    return cnt.drop_duplicates("item_id").set_index("item_id")["value"]


def _item_correct(table: AlignedTable, judge: str, ref: pd.Series, items: list[str],
                  cache: dict[str, pd.Series] | None = None) -> np.ndarray:
    if cache is None:
        cache = {}
    if judge not in cache:
        cache[judge] = _item_modal(table, judge)
    return (cache[judge].reindex(items).to_numpy() == ref.reindex(items).to_numpy())
