"""System-level validity probe (METRICS.md §6).

When the responses come from several systems, rank the systems by the judge and by the humans and compare the
rankings.

Per-system scores
-----------------
Pointwise (needs a ``system`` column): a system's score is the mean over its items of the judge's item mean
(judge) and of the human reference (humans), both as numeric scores (interval: the number; ordinal: the level's
number or rank; binary: 1 for the positive class), on the items where both are defined.

Pairwise (needs ``generator_a`` and ``generator_b``): a system's score is its win rate over the items it takes
part in, from the item-frame verdicts: per item, the judge gives A ``mean over its rows of (1 for A, ½ for a
tie, 0 for B)`` and B one minus that; the humans' points come from the reference label the same way. Items whose
two generators are the same are left out and counted.

Metrics
-------
``system_rank_spearman``, ``system_rank_kendall``
    Spearman ρ and Kendall τ-b between the judge's and the humans' per-system scores (ranks with ties
    averaged), with p-values over systems (Spearman: an exact permutation test up to 9 systems, scipy's t
    approximation beyond; Kendall: scipy, exact for few untied systems) and a bootstrap CI over items: items
    are resampled within each system for pointwise tasks (every system keeps its number of items) and across all items for pairwise
    tasks (a system absent from a replicate is left out of that replicate's correlation). Both rankings are
    recomputed in every replicate, so the CI covers the uncertainty of the human ranking too.
``system_deviation``
    Per system (``slice="system=<name>"``, ``level="system"``): |judge score − human score| with a bootstrap
    CI; the signed difference is in the ``ranking`` frame.

Frame ``ranking``: judge, system, human_score, judge_score, human_rank, judge_rank (1 = best), deviation
(judge − human), n_items.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from .base import ProbeResult, ProbeUnavailable, estimate, numeric, probe_row
from ._shared import boot_sums, interval, item_column, join_notes, pairwise_codes, ref_name, score_values

PROBE = "system"
MIN_SYSTEMS = 3
#: Up to this many systems the Spearman p-value is an exact permutation test (scipy's t approximation gives
#: p = 0 for a perfect ranking of 4 systems, whose exact two-sided p is 1/12).
EXACT_SPEARMAN_MAX = 9


def _rank_rows(x: np.ndarray) -> np.ndarray:
    """Average ranks along the last axis (ascending)."""
    return sps.rankdata(x, axis=-1, method="average")


def _spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise Spearman ρ of (B, S) arrays without NaN; NaN where a side is constant."""
    rx, ry = _rank_rows(x), _rank_rows(y)
    rx = rx - rx.mean(axis=-1, keepdims=True)
    ry = ry - ry.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(rx * ry, axis=-1) / np.sqrt(np.sum(rx ** 2, axis=-1) * np.sum(ry ** 2, axis=-1))


def _kendall_b(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Row-wise Kendall τ-b of (B, S) arrays; NaN entries drop out of every pair they are in."""
    i, j = np.triu_indices(x.shape[-1], k=1)
    ok = np.isfinite(x) & np.isfinite(y)
    valid = ok[..., i] & ok[..., j]
    sx = np.where(valid, np.sign(x[..., i] - x[..., j]), 0.0)
    sy = np.where(valid, np.sign(y[..., i] - y[..., j]), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(sx * sy, axis=-1) / np.sqrt(np.sum(sx ** 2, axis=-1) * np.sum(sy ** 2, axis=-1))


def spearman_p(x: np.ndarray, y: np.ndarray) -> tuple[float, str]:
    """Two-sided p-value of Spearman's ρ over systems, and how it was computed.

    Up to :data:`EXACT_SPEARMAN_MAX` systems: every pairing of ``y`` with ``x`` is enumerated and
    p = min(1, 2·min(P(ρ ≥ ρ_obs), P(ρ ≤ ρ_obs))) (the convention of ``scipy.stats.permutation_test``). Beyond
    that, scipy's t approximation.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    if n > EXACT_SPEARMAN_MAX:
        return float(sps.spearmanr(x, y).pvalue), "t approximation"
    from itertools import permutations

    obs = float(_spearman(x[None], y[None])[0])
    if not math.isfinite(obs):
        return math.nan, "undefined"
    perms = np.array(list(permutations(range(n))))
    null = _spearman(np.broadcast_to(x, perms.shape), y[perms])
    tol = 1e-12 * max(1.0, abs(obs))
    p = 2 * min(np.mean(null >= obs - tol), np.mean(null <= obs + tol))
    return float(min(1.0, p)), "exact permutation"


def _replicate_correlations(jx: np.ndarray, hx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rho = np.full(jx.shape[0], np.nan)
    ok = np.isfinite(jx).all(axis=1) & np.isfinite(hx).all(axis=1)
    if ok.any():
        rho[ok] = _spearman(jx[ok], hx[ok])
    for b in np.flatnonzero(~ok):  # pairwise replicates that miss a system
        m = np.isfinite(jx[b]) & np.isfinite(hx[b])
        if m.sum() >= MIN_SYSTEMS:
            rho[b] = _spearman(jx[b, m][None], hx[b, m][None])[0]
    tau = _kendall_b(jx, hx)
    tau[(np.isfinite(jx) & np.isfinite(hx)).sum(axis=1) < MIN_SYSTEMS] = np.nan
    return rho, tau


def system_probe(table: Any, *, options: dict[str, Any], confidence_level: float, n_resamples: int,
                 rng: np.random.Generator) -> ProbeResult:
    """Judge vs human ranking of systems (module docstring)."""
    scale = table.scale
    pairwise = scale.kind == "pairwise"
    if pairwise:
        ga, gb = item_column(table, "generator_a"), item_column(table, "generator_b")
        if ga is None or gb is None:
            raise ProbeUnavailable("no systems to rank: set gold.columns.generator_a and generator_b (which system "
                                   "wrote each response).")
    else:
        sysc = item_column(table, "system")
        if sysc is None:
            raise ProbeUnavailable("no systems to rank: set gold.columns.system (which system produced each "
                                   "response).")
        if scale.kind == "nominal":
            raise ProbeUnavailable("a nominal scale has no scores to rank systems by; system-level validity needs "
                                   "an ordinal, interval, binary or pairwise scale.")
    res = ProbeResult(probe=PROBE)
    rname = ref_name(table)
    cl = confidence_level
    frames: list[pd.DataFrame] = []
    n_sys_max = n_items_max = 0
    for j in table.judges:
        built = _pairwise_matrices(table, j, ga, gb) if pairwise else _pointwise_matrices(table, j, sysc)
        systems, jc, hc, mc, strata, counts = built
        res.counts[j] = counts
        if len(systems) < MIN_SYSTEMS:
            res.skipped.append(f"{j}: {len(systems)} system(s) with judged items; ranking systems needs at least "
                               f"{MIN_SYSTEMS}.")
            continue
        n = mc.shape[0]
        n_sys_max, n_items_max = max(n_sys_max, len(systems)), max(n_items_max, n)
        with np.errstate(invalid="ignore", divide="ignore"):
            # system means rounded to 12 decimals: means equal in exact arithmetic (347/144 from two different
            # sums) must tie when ranked, whatever order the floating-point sums took
            js, hs = np.round(jc.sum(0) / mc.sum(0), 12), np.round(hc.sum(0) / mc.sum(0), 12)
            s_count = mc.shape[1]
            sums = boot_sums(np.hstack([jc, hc, mc]), n_resamples, rng, strata=strata)
            wm = sums[:, 2 * s_count:]
            jx, hx = np.round(sums[:, :s_count] / wm, 12), np.round(sums[:, s_count:2 * s_count] / wm, 12)
        rho_reps, tau_reps = _replicate_correlations(jx, hx)
        method = "bootstrap-cluster" if n_resamples > 0 else "none"
        boot = "items resampled within systems" if not pairwise else "items resampled"
        rho_p, rho_how = spearman_p(js, hs)
        tau = sps.kendalltau(js, hs)
        for metric, est, p, how, reps in (
            ("system_rank_spearman", float(sps.spearmanr(js, hs).statistic), rho_p, rho_how, rho_reps),
            ("system_rank_kendall", float(tau.statistic), float(tau.pvalue), "scipy", tau_reps),
        ):
            note = ""
            if not math.isfinite(est):
                note = "undefined: one side gives every system the same score"
            lo, hi, nb = interval(reps, cl)
            res.rows.append(probe_row(PROBE, j, estimate(
                metric, est, lo, hi, n=n, confidence_level=cl, method=method,
                note=join_notes(note, f"{len(systems)} systems; {boot}; p over systems ({how})", nb)),
                reference=rname, p_value=p, level="system"))
        dev_reps = np.abs(jx - hx)
        for s_i, s in enumerate(systems):
            lo, hi, nb = interval(dev_reps[:, s_i], cl)
            res.rows.append(probe_row(PROBE, j, estimate(
                "system_deviation", abs(js[s_i] - hs[s_i]), lo, hi, n=int(mc[:, s_i].sum()), confidence_level=cl,
                method=method, note=join_notes(f"|judge − humans|; signed {js[s_i] - hs[s_i]:+.4g}", nb)),
                reference=rname, slice_=f"system={s}", level="system"))
        hr = sps.rankdata(-hs, method="average")
        jrk = sps.rankdata(-js, method="average")
        frames.append(pd.DataFrame({"judge": j, "system": systems, "human_score": hs, "judge_score": js,
                                    "human_rank": hr, "judge_rank": jrk, "deviation": js - hs,
                                    "n_items": mc.sum(0).astype(int)}))
    res.frames["ranking"] = (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["judge", "system", "human_score", "judge_score", "human_rank", "judge_rank", "deviation",
                 "n_items"]))
    score = "win rate (ties count ½) from the item-frame verdicts" if pairwise else "mean score"
    res.description = (
        f"System-level validity: each system's {score} by the judge and by the humans ({rname}) on the same "
        f"items (up to {n_sys_max} systems, {n_items_max} items); Spearman ρ and Kendall τ-b of the two rankings "
        "with bootstrap CIs over items, and each system's absolute score deviation."
    )
    return res


def _pointwise_matrices(table: Any, j: str, sysc: pd.Series):
    scale = table.scale
    jr = table.rows(j)
    jm = pd.Series(score_values(scale, numeric(jr["value"])), index=jr["item_id"].to_numpy()) \
        .groupby(level=0).mean()
    ref = pd.Series(score_values(scale, table.reference.to_numpy(float)), index=table.reference.index)
    df = pd.DataFrame({"judge": jm, "human": ref.reindex(jm.index),
                       "system": sysc.reindex(jm.index)})
    n_judged = len(df)
    no_sys = int(df["system"].isna().sum())
    df = df.dropna()
    df["system"] = df["system"].astype(str)
    df = df.sort_values("system", kind="stable")
    systems = sorted(df["system"].unique())
    col = pd.Categorical(df["system"], categories=systems).codes
    n, s = len(df), len(systems)
    mc = np.zeros((n, s))
    mc[np.arange(n), col] = 1.0
    jc = mc * df["judge"].to_numpy()[:, None]
    hc = mc * df["human"].to_numpy()[:, None]
    counts = {"items": n_judged, "items_used": n, "items_without_system": no_sys,
              "items_left_out": n_judged - n, "systems": s}
    return systems, jc, hc, mc, df["system"].to_numpy(), counts


def _pairwise_matrices(table: Any, j: str, ga: pd.Series, gb: pd.Series):
    code_a, code_b, code_tie = pairwise_codes(table.scale)

    def points(v: np.ndarray) -> np.ndarray:
        out = np.full(v.shape, np.nan)
        out[v == code_a] = 1.0
        out[v == code_b] = 0.0
        if code_tie is not None:
            out[v == code_tie] = 0.5
        return out

    jr = table.rows(j)
    jp = pd.Series(points(numeric(jr["value"])), index=jr["item_id"].to_numpy()).groupby(level=0).mean()
    hp = pd.Series(points(table.reference.to_numpy(float)), index=table.reference.index)
    df = pd.DataFrame({"judge": jp, "human": hp.reindex(jp.index), "a": ga.reindex(jp.index),
                       "b": gb.reindex(jp.index)})
    n_judged = len(df)
    df = df.dropna()
    df["a"], df["b"] = df["a"].astype(str), df["b"].astype(str)
    same = df["a"] == df["b"]
    df = df[~same]
    systems = sorted(set(df["a"]) | set(df["b"]))
    n, s = len(df), len(systems)
    ca = pd.Categorical(df["a"], categories=systems).codes
    cb = pd.Categorical(df["b"], categories=systems).codes
    rows = np.arange(n)
    mc = np.zeros((n, s))
    jc = np.zeros((n, s))
    hc = np.zeros((n, s))
    mc[rows, ca] = 1.0
    mc[rows, cb] = 1.0
    jv, hv = df["judge"].to_numpy(), df["human"].to_numpy()
    jc[rows, ca], jc[rows, cb] = jv, 1 - jv
    hc[rows, ca], hc[rows, cb] = hv, 1 - hv
    counts = {"items": n_judged, "items_used": n, "items_same_generator": int(same.sum()),
              "items_left_out": n_judged - n, "systems": s}
    return systems, jc, hc, mc, None, counts
