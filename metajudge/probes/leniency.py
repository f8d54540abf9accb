"""Leniency probe (METRICS.md §5 "Leniency").

Pointwise, ordered scores (interval, ordinal)
---------------------------------------------
Per item, ``d_i = judge_i − reference_i``: the judge's item mean (over its rows) minus the human reference, both
as numeric scores (the number for interval scales; the level's number, or its rank when the levels are not
numbers, for ordinal scales).

``leniency_shift``
    mean(d) (> 0: the judge is more lenient than the humans), CI by item bootstrap. p-value: Wilcoxon
    signed-rank test of the d_i (scipy defaults: zero differences dropped) for ordinal scales, one-sample
    t-test for interval scales.
``bland_altman_lower``, ``bland_altman_upper``
    Bland–Altman limits of agreement mean(d) ± 1.96·SD(d) (SD with ddof = 1), CIs by item bootstrap.
``stuart_maxwell`` (categorical scales)
    Stuart–Maxwell marginal-homogeneity χ² on the K×K table of (reference level, the judge's modal level per
    item); the estimate is the statistic, the p-value its χ² survival function (never ``1 − cdf``, which
    underflows). Computed with statsmodels ``SquareTable(copy, shift_zeros=False)`` (METRICS.md §7 trap 8: the
    default adds 0.5 to empty cells and writes into the caller's float array). Levels without any discordant
    item carry no information and are left out (they make the covariance singular; the statistic is unchanged).

Binary correctness (Thakur et al. 2024)
---------------------------------------
With the judge's per-item share of positive verdicts ``s_i`` (1/0 with one row per item) and the reference
``r_i``: ``fpr`` = Σ_{r=0} s_i / n₀ (judge says positive where humans say negative), ``fnr`` =
Σ_{r=1} (1 − s_i) / n₁, ``p_c`` = TPR + TNR − 1 = 1 − FPR − FNR (the probability the judge is right for a
reason), ``leniency_p_plus`` = FPR / (FPR + FNR) (> 0.5 lenient; NaN with a note when both are 0), and
``leniency_shift`` = mean(s − r), the positive-rate difference, with an exact McNemar p-value on the modal
verdicts. CIs by item bootstrap; ``stuart_maxwell`` as above.

Pointwise, nominal (> 2 unordered levels)
-----------------------------------------
Only ``stuart_maxwell``: a signed shift needs ordered scores.

Pairwise
--------
``tie_rate`` of each judge (share of its rows that are ties) beside the human ``tie_rate`` on the same items
(row ``judge="humans"``, ``reference=<judge>``) and ``tie_rate_difference`` (judge − humans), paired item
bootstrap CI and Wald p-value with item-clustered SE. Needs a pairwise scale with a tie level.

Frames
------
``bland_altman``: judge, mean ((judge + reference)/2), diff (judge − reference), count: one row per distinct
point of each judge (ordered pointwise scales), ``count`` items at it, in the order the points first occur.
Points are exact; only when a judge has more than :data:`BA_MAX_POINTS` distinct points (continuous scores on
many items) are they rounded to a grid of :data:`BA_GRID` steps over each axis's range before counting (the
probe's note says so), which keeps reports small; the statistics always use the exact differences. ``distribution``: rater ("humans" or the judge), value (level label, or for interval scales
the centre of a common histogram bin), share. For pointwise scales the humans' distribution is that of the
reference (what the judge is compared with) and the judge's that of its rows; for pairwise both are rows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .base import ProbeResult, ProbeUnavailable, estimate, numeric, probe_row
from ._shared import boot_sums, interval, join_notes, paired_ratio_rows, ref_name, score_values

PROBE = "leniency"
#: Distinct Bland–Altman points per judge above which the plot frame is rounded to a grid.
BA_MAX_POINTS = 5000
#: Steps per axis of that grid.
BA_GRID = 200
BA_Z = 1.96


def stuart_maxwell(table: np.ndarray) -> tuple[float, int, float, str]:
    """Stuart–Maxwell test of marginal homogeneity of a square table of counts: (χ², df, p, note).

    Never modifies ``table``. Levels with no discordant count are dropped first (they add nothing to the
    statistic and make the covariance singular); with fewer than two levels left the statistic is 0 (p = 1).
    """
    from statsmodels.stats.contingency_tables import SquareTable

    t = np.array(table, dtype=float, copy=True)
    if t.ndim != 2 or t.shape[0] != t.shape[1]:
        raise ValueError("the Stuart–Maxwell test needs a square table")
    discordant = t.sum(0) + t.sum(1) - 2 * np.diag(t)
    keep = np.flatnonzero(discordant > 0)
    note = ""
    if len(keep) < t.shape[0]:
        note = f"{t.shape[0] - len(keep)} level(s) without discordant items left out"
    if len(keep) < 2:
        return 0.0, 0, 1.0, join_notes(note, "no discordant items: the margins are identical")
    sub = t[np.ix_(keep, keep)].copy()
    b = SquareTable(sub, shift_zeros=False).homogeneity(method="stuart_maxwell")
    stat, df = float(b.statistic), int(b.df)
    p = float(sps.chi2.sf(stat, df)) if math.isfinite(stat) else math.nan
    return stat, df, p, note


def modal_values(rows: pd.DataFrame) -> pd.Series:
    """item_id -> the most frequent value of the item's rows (the smallest code on a tie, as
    :meth:`AlignedTable.wide` does)."""
    d = rows[["item_id", "value"]].dropna()
    cnt = d.groupby(["item_id", "value"], sort=True).size().rename("c").reset_index()
    cnt = cnt.sort_values(["item_id", "c", "value"], ascending=[True, False, True], kind="stable")
    return cnt.drop_duplicates("item_id").set_index("item_id")["value"]


def leniency_probe(table: Any, *, options: dict[str, Any], confidence_level: float, n_resamples: int,
                   rng: np.random.Generator) -> ProbeResult:
    """Leniency of each judge against the human reference (module docstring)."""
    scale = table.scale
    res = ProbeResult(probe=PROBE)
    if not table.judges:
        raise ProbeUnavailable("no judge in the aligned table.")
    if scale.kind == "pairwise":
        _pairwise(table, res, confidence_level, n_resamples, rng)
        return res
    ref = table.reference.dropna()
    if ref.empty:
        raise ProbeUnavailable("no item has a human reference label (every item's annotators tie, or no human "
                               "labels); set gold.aggregate or add annotators.")
    rname = ref_name(table)
    cl = confidence_level
    dist: list[dict[str, Any]] = []
    ba: list[pd.DataFrame] = []
    notes_ba: list[str] = []
    if scale.categorical:
        levels = list(scale.levels or [])
        hv = ref.to_numpy(dtype=int)
        for k, lv in enumerate(levels):
            dist.append({"rater": "humans", "value": lv, "share": float(np.mean(hv == k))})
    n_max = 0
    for j in table.judges:
        jr = table.rows(j)
        codes = numeric(jr["value"])
        items = jr["item_id"].to_numpy()
        if scale.categorical:
            cj = codes[~np.isnan(codes)].astype(int)
            for k, lv in enumerate(levels):
                dist.append({"rater": j, "value": lv, "share": float(np.mean(cj == k)) if cj.size else math.nan})
        common = pd.Index(sorted(set(items) & set(ref.index)))
        res.counts[j] = {"items": int(pd.Series(items).nunique()), "items_with_reference": len(common),
                         "items_without_reference": int(pd.Series(items).nunique()) - len(common)}
        if len(common) < 2:
            res.skipped.append(f"{j}: fewer than 2 items with a human reference; leniency not measured.")
            continue
        n_max = max(n_max, len(common))
        # marginal homogeneity on the K x K table (reference level, judge modal level)
        if scale.categorical:
            mode = modal_values(jr).reindex(common).to_numpy(dtype=int)
            r = ref.reindex(common).to_numpy(dtype=int)
            k = scale.n_levels
            tab = np.zeros((k, k))
            np.add.at(tab, (r, mode), 1)
            stat, df, p, note = stuart_maxwell(tab)
            res.rows.append(probe_row(PROBE, j, estimate(
                "stuart_maxwell", stat, n=len(common), confidence_level=cl, method="stuart-maxwell",
                note=join_notes(f"chi-square statistic, df={df}; reference level vs the judge's modal level", note)),
                reference=rname, p_value=p))
            res.counts[j]["table"] = tab.astype(int).tolist()
        if scale.kind == "nominal":
            continue
        jm = pd.Series(score_values(scale, codes), index=items).groupby(level=0).mean().reindex(common)
        rv = pd.Series(score_values(scale, ref.reindex(common).to_numpy(float)), index=common)
        if scale.kind == "binary":
            _binary_rows(j, jm.to_numpy(), rv.to_numpy(), tab, res, rname, cl, n_resamples, rng)
            continue
        d = (jm - rv).to_numpy()
        pts, rounded = bland_altman_points(((jm + rv) / 2).to_numpy(dtype=float), d)
        pts.insert(0, "judge", j)
        ba.append(pts)
        if rounded:
            notes_ba.append(f"{j}: {rounded:,} distinct Bland–Altman points, plotted on a {BA_GRID}×{BA_GRID} grid "
                            "(counts per cell); the shift and limits use the exact differences")
        _shift_rows(j, d, res, rname, cl, n_resamples, rng, ordinal=scale.kind == "ordinal")
    if scale.kind == "interval":
        dist = _interval_distribution(table, ref)
    if scale.kind == "nominal":
        res.skipped.append("nominal scale: a signed leniency shift needs ordered scores; only marginal homogeneity "
                           "(Stuart–Maxwell) is tested.")
    res.frames["distribution"] = pd.DataFrame(dist, columns=["rater", "value", "share"])
    res.frames["bland_altman"] = (pd.concat(ba, ignore_index=True) if ba else
                                  pd.DataFrame({"judge": pd.Series(dtype=object), "mean": pd.Series(dtype=float),
                                                "diff": pd.Series(dtype=float), "count": pd.Series(dtype=int)}))
    what = {"interval": "the mean signed difference judge − human reference with Bland–Altman limits and a "
                        "one-sample t-test",
            "ordinal": "the mean signed difference judge − human reference (level values) with Bland–Altman "
                       "limits, a Wilcoxon signed-rank test and the Stuart–Maxwell marginal-homogeneity test",
            "binary": "false-positive and false-negative rates against the human reference, P_c = TPR + TNR − 1 "
                      "and P₊ = FPR/(FPR + FNR) (> 0.5: lenient), the positive-rate shift with an exact McNemar "
                      "test and the Stuart–Maxwell test",
            "nominal": "the Stuart–Maxwell test of equal label distributions"}[scale.kind]
    res.description = (f"Leniency probe on up to {n_max} items with a human reference ({rname}): {what}. "
                       "Confidence intervals resample items." + "".join(f" {n}." for n in notes_ba))
    return res


def bland_altman_points(mean: np.ndarray, diff: np.ndarray) -> tuple[pd.DataFrame, int]:
    """Distinct (mean, diff) points with their ``count``, in order of first occurrence; more than
    :data:`BA_MAX_POINTS` distinct points are first rounded to a :data:`BA_GRID`-step grid over each axis's range.
    Returns the frame and the number of distinct exact points when rounding happened (else 0).

    >>> f, r = bland_altman_points(np.array([1.5, 2.0, 1.5]), np.array([1.0, 0.0, 1.0]))
    >>> f.to_dict("list"), r
    ({'mean': [1.5, 2.0], 'diff': [1.0, 0.0], 'count': [2, 1]}, 0)
    """
    df = pd.DataFrame({"mean": np.asarray(mean, dtype=float), "diff": np.asarray(diff, dtype=float)})
    pts = df.groupby(["mean", "diff"], sort=False).size().reset_index(name="count")
    if len(pts) <= BA_MAX_POINTS:
        return pts, 0
    n_exact = len(pts)
    for col in ("mean", "diff"):
        v = df[col].to_numpy()
        lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
        step = (hi - lo) / BA_GRID if hi > lo else 1.0
        df[col] = lo + np.round((v - lo) / step) * step
    pts = df.groupby(["mean", "diff"], sort=False).size().reset_index(name="count")
    return pts, n_exact


def _shift_rows(j: str, d: np.ndarray, res: ProbeResult, rname: str, cl: float, n_resamples: int,
                rng: np.random.Generator, *, ordinal: bool) -> None:
    n = len(d)
    sums = boot_sums(np.column_stack([d, d ** 2]), n_resamples, rng)
    s1, s2 = sums[:, 0], sums[:, 1]
    rep_mean = s1 / n
    with np.errstate(invalid="ignore"):
        rep_sd = np.sqrt(np.maximum(s2 - s1 ** 2 / n, 0) / (n - 1))
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if ordinal:
        if np.all(d == 0):
            p, pnote = math.nan, "p undefined: every difference is 0"
        else:
            p = float(sps.wilcoxon(d).pvalue)
            pnote = "p: Wilcoxon signed-rank (zero differences dropped)"
    else:
        if sd == 0:
            p, pnote = math.nan, "p undefined: the differences are constant"
        else:
            p = float(sps.ttest_1samp(d, 0.0).pvalue)
            pnote = "p: one-sample t-test"
    method = "bootstrap-cluster" if n_resamples > 0 else "none"
    lo, hi, nb = interval(rep_mean, cl)
    res.rows.append(probe_row(PROBE, j, estimate(
        "leniency_shift", mean, lo, hi, n=n, confidence_level=cl, method=method,
        note=join_notes("mean(judge item mean − human reference)", pnote, nb)), reference=rname, p_value=p))
    for metric, sign in (("bland_altman_lower", -1), ("bland_altman_upper", 1)):
        lo, hi, nb = interval(rep_mean + sign * BA_Z * rep_sd, cl)
        res.rows.append(probe_row(PROBE, j, estimate(
            metric, mean + sign * BA_Z * sd, lo, hi, n=n, confidence_level=cl, method=method,
            note=join_notes(f"mean {'−' if sign < 0 else '+'} 1.96·SD of the differences (SD={sd:.4g})", nb)),
            reference=rname))


def _binary_rows(j: str, s: np.ndarray, r: np.ndarray, tab: np.ndarray, res: ProbeResult, rname: str, cl: float,
                 n_resamples: int, rng: np.random.Generator) -> None:
    from statsmodels.stats.contingency_tables import mcnemar

    n = len(s)
    neg, pos = (r == 0).astype(float), (r == 1).astype(float)
    stats = np.column_stack([neg, s * neg, pos, (1 - s) * pos, s - r])
    reps = boot_sums(stats, n_resamples, rng)

    def kernel(t: np.ndarray) -> dict[str, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            fpr = t[..., 1] / t[..., 0]
            fnr = t[..., 3] / t[..., 2]
            return {"fpr": fpr, "fnr": fnr, "p_c": 1 - fpr - fnr, "leniency_p_plus": fpr / (fpr + fnr),
                    "leniency_shift": t[..., 4] / n}

    point = {k: float(v) for k, v in kernel(stats.sum(0)).items()}
    rep = kernel(reps)
    method = "bootstrap-cluster" if n_resamples > 0 else "none"
    b = mcnemar(tab, exact=True) if tab.shape == (2, 2) else None
    notes = {
        "fpr": f"judge positive among {int(neg.sum())} items the humans call negative",
        "fnr": f"judge negative among {int(pos.sum())} items the humans call positive",
        "p_c": "TPR + TNR − 1",
        "leniency_p_plus": "FPR/(FPR + FNR); > 0.5 lenient",
        "leniency_shift": "judge positive rate − human positive rate; p: exact McNemar on the modal verdicts",
    }
    if neg.sum() == 0:
        notes["fpr"] = "undefined: no item the humans call negative"
    if pos.sum() == 0:
        notes["fnr"] = "undefined: no item the humans call positive"
    if point["fpr"] == 0 and point["fnr"] == 0:
        point["leniency_p_plus"] = math.nan
        notes["leniency_p_plus"] = "undefined: FPR = FNR = 0 (the judge never errs)"
    for metric in ("fpr", "fnr", "p_c", "leniency_p_plus", "leniency_shift"):
        lo, hi, nb = interval(rep[metric], cl)
        p = float(b.pvalue) if metric == "leniency_shift" and b is not None else math.nan
        res.rows.append(probe_row(PROBE, j, estimate(metric, point[metric], lo, hi, n=n, confidence_level=cl,
                                                     method=method, note=join_notes(notes[metric], nb)),
                                  reference=rname, p_value=p))


def _interval_distribution(table: Any, ref: pd.Series) -> list[dict[str, Any]]:
    vals = {"humans": ref.to_numpy(dtype=float)}
    for j in table.judges:
        vals[j] = numeric(table.rows(j)["value"])
    allv = np.concatenate([v[np.isfinite(v)] for v in vals.values()])
    if allv.size == 0:
        return []
    edges = np.histogram_bin_edges(allv, bins=min(20, max(1, len(np.unique(allv)))))
    centres = (edges[:-1] + edges[1:]) / 2
    out = []
    for rater, v in vals.items():
        v = v[np.isfinite(v)]
        h, _ = np.histogram(v, bins=edges)
        for c, x in zip(centres, h):
            out.append({"rater": rater, "value": float(c), "share": float(x / max(len(v), 1))})
    return out


def _pairwise(table: Any, res: ProbeResult, cl: float, n_resamples: int, rng: np.random.Generator) -> None:
    scale = table.scale
    if scale.n_levels != 3:
        raise ProbeUnavailable("the pairwise scale has no tie level, so there are no tie rates to compare; "
                               "declare scale.ties: true (levels A, tie, B) if ties were allowed.")
    tie = 1
    d = table.data
    val = numeric(d["value"])
    ok = ~np.isnan(val)
    rname = ref_name(table)
    frame = pd.DataFrame({"item_id": d["item_id"].to_numpy(), "rater": d["rater"].to_numpy(),
                          "kind": d["rater_kind"].to_numpy(), "tie": val == tie})[ok]
    hum = frame[frame["kind"] == "human"].groupby("item_id", sort=True)["tie"].agg(["sum", "count"])
    dist: list[dict[str, Any]] = []
    levels = list(scale.levels or [])

    def add_dist(rater: str, v: np.ndarray) -> None:
        for k, lv in enumerate(levels):
            dist.append({"rater": rater, "value": lv, "share": float(np.mean(v == k)) if v.size else math.nan})

    add_dist("humans", val[ok & (d["rater_kind"] == "human").to_numpy()])
    n_max = 0
    for j in table.judges:
        add_dist(j, val[ok & (d["rater"] == j).to_numpy()])
        jt = frame[frame["rater"] == j].groupby("item_id", sort=True)["tie"].agg(["sum", "count"])
        common = jt.index.intersection(hum.index)
        res.counts[j] = {"items": len(jt), "paired_items": len(common),
                         "judge_tie_rows": int(jt.loc[common, "sum"].sum()),
                         "judge_rows": int(jt.loc[common, "count"].sum()),
                         "human_tie_rows": int(hum.loc[common, "sum"].sum()),
                         "human_rows": int(hum.loc[common, "count"].sum())}
        if len(common) < 2:
            res.skipped.append(f"{j}: fewer than 2 items with both judge and human verdicts; tie rates not "
                               "compared.")
            continue
        n_max = max(n_max, len(common))
        a, m = jt.loc[common, "sum"].to_numpy(float), jt.loc[common, "count"].to_numpy(float)
        b, k = hum.loc[common, "sum"].to_numpy(float), hum.loc[common, "count"].to_numpy(float)
        res.rows += paired_ratio_rows(j, "tie_rate", "tie_rate_difference", a, m, b, k, probe=PROBE,
                                      reference=rname, confidence_level=cl, n_resamples=n_resamples, rng=rng,
                                      null_rate=None, note_rate="share of the judge's rows that are ties",
                                      note_human=f"human rows on the {len(common)} items of judge {j}")
    res.frames["distribution"] = pd.DataFrame(dist, columns=["rater", "value", "share"])
    res.frames["bland_altman"] = pd.DataFrame(columns=["judge", "mean", "diff", "count"])
    res.skipped.append("pairwise task: leniency is measured as the judge's tie rate against the humans' "
                       "(a signed score shift needs pointwise scores).")
    res.description = (f"Leniency probe, pairwise: each judge's tie rate (all its rows, both orders and repeats) "
                       f"beside the humans' tie rate on the same items (up to {n_max} items), and the difference "
                       "with a paired item-bootstrap CI.")
