"""Self-preference probe: does a judge favour responses of its own model family? (METRICS.md §5)

Needs each response's generator (pairwise: ``generator_a`` / ``generator_b``; pointwise: ``system``) and a
mapping judge -> model family (``probes.self_preference.families``); a generator's family defaults to the
generator name (``probes.self_preference.generator_families`` maps names to families). Families are
compared after stripping and lower-casing.

Metrics (one row each per judge with a family; every one with an item-bootstrap CI and a Wald p-value)
------------------------------------------------------------------------------------------------------
``self_preference_eo`` (pairwise)
    Equal-opportunity bias (Wataoka et al. 2024) on *self-vs-other* pairs (exactly one response of the
    judge's family): ``P(judge prefers own | human prefers own) − P(judge prefers other | human prefers
    other)``; 0 is unbiased, > 0 favours its own family.
``self_preference_inflation`` (pairwise)
    Judge win rate of its own family's responses on self-vs-other pairs minus the human win rate of the
    same responses (ties count ½).
``self_preference_did`` (pointwise)
    Difference in differences: ``mean(judge − human | own-family outputs) − mean(judge − human | other
    outputs)``, in scale points (ordinal levels at their numeric value when every level is a number, else
    at their rank; interval values as they are; binary: 1 for the positive class).
``self_rank_difference`` (several systems per prompt: pointwise data with a ``group`` column, or
    :func:`self_rank_bias` on rankings such as CoBBLEr)
    Mean over prompts of the judge's rank of its own system's response minus the human consensus rank
    (ranks ``1..m`` within the prompt, ``m`` = best, ties averaged; the consensus ranks the mean human
    score); > 0: the judge places its own system higher than the humans do.
``<metric>_peer_adjusted``
    The mean over the judge's *peers* (the other judges with a declared family ``G`` different from the
    judge's) of (judge's metric − peer's metric), both computed for the judge's family on the same matched
    subset: the items both judged, without the responses of the peer's own family ``G`` (pairwise: pairs
    whose other response is of family ``G``; pointwise: ``G``'s outputs; rankings: ``G``'s systems, removed
    from both rankings), which would carry the peer's own self-preference. A peer that judged fewer than
    :data:`MIN_PEER_SHARE` of the judge's items in that subset is left out. Why: the plain metrics are 0 for
    an unbiased judge only when its family's responses are as hard to judge as the others' and the judge is
    as accurate as the annotators. An accurate, unbiased judge whose family writes the better answers shows a
    positive EO (it agrees more often with the annotators' noisy "own wins" votes than with their "other
    wins" votes), and a judge that compresses scores shows a DiD; peers of similar accuracy judging the same
    items carry the same confound, so the peer-adjusted value isolates what is particular to the judge (it is
    exact when judge and peers differ only in the bias).

Decisions
---------
- *Human preference.* Every annotator's vote on an item is a condition instance: with one label per item
  this is exactly ``P(· | human prefers own)``; with several annotators the item enters ``P(· | human
  prefers own)`` with weight = the share of its votes for the own response (and likewise for "other"), so
  items without a majority are not lost. Human ties enter neither condition (EO) and count ½ (win rate).
  The human side of the pointwise DiD is the mean of the annotators' values on the item.
- *Judge verdicts.* All of a judge's usable runs of an item (both orders, repeats) are averaged into the
  item's shares of "prefers own", "prefers other" and "tie", so each item weighs the same. A judge tie
  prefers neither response (it lowers both conditional probabilities of EO) and counts ½ in the win rate.
- *Items.* Pairs with both or neither response from the judge's family are left out and counted; so are
  self-vs-other pairs without a usable judge verdict or human vote.
- *Uncertainty.* Percentile item bootstrap (cluster = the ``group`` column when the data have one, e.g.
  several responses to one prompt, else the item; all rows of a cluster are resampled together); the test
  of ``metric = 0`` is a Wald test with the delta-method (linearisation) standard error over the same
  clusters, ``p = 2·Φ(−|est / se|)``. Rankings resample prompts. With fewer than two clusters there is no
  interval (NaN) and no test.
- Panickssery et al. 2024's probability-mass measure needs judge probabilities, which the aligned table does
  not hold; it is not computed.

References
----------
Wataoka, Takahashi & Ri (2024). Self-Preference Bias in LLM-as-a-Judge. arXiv:2410.21819.
Panickssery, Bowman & Feng (2024). LLM Evaluators Recognize and Favor Their Own Generations. NeurIPS.
Koo et al. (2024). Benchmarking Cognitive Biases in Large Language Models as Evaluators (CoBBLEr). Findings
of ACL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..metrics.bootstrap import as_generator, bootstrap_stats, percentile_interval
from .base import ProbeResult, ProbeUnavailable, estimate, numeric, probe_row

__all__ = ["self_preference_probe", "self_rank_bias"]

PROBE = "self_preference"
#: A peer enters a judge's peer-adjusted value only if it judged at least this share of the judge's items
#: (pairs, outputs or prompts) in the matched subset; sparse peers would make the value mostly undefined.
MIN_PEER_SHARE = 0.25
NO_GENERATOR = ("no generator column: set gold.columns.generator_a/generator_b (pairwise) or "
                "gold.columns.system (pointwise)")


# --------------------------------------------------------------------------------------------------
# ratio-of-sums metrics: value, bootstrap, delta-method test
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ratio:
    """``Σ_t w_t · S[num_t] / S[den_t]`` over column sums ``S`` of per-cluster statistics."""

    terms: tuple[tuple[float, int, int], ...]

    def __call__(self, sums: np.ndarray) -> np.ndarray:
        s = np.asarray(sums, dtype=float)
        out = np.zeros(s.shape[:-1])
        with np.errstate(invalid="ignore", divide="ignore"):
            for w, a, b in self.terms:
                out = out + w * s[..., a] / s[..., b]
        return out

    def __sub__(self, other: _Ratio) -> _Ratio:
        return _Ratio(self.terms + tuple((-w, a, b) for w, a, b in other.terms))

    def scaled(self, factor: float) -> _Ratio:
        return _Ratio(tuple((w * factor, a, b) for w, a, b in self.terms))

    def shifted(self, offset: int) -> _Ratio:
        return _Ratio(tuple((w, a + offset, b + offset) for w, a, b in self.terms))

    def gradient(self, point: np.ndarray) -> np.ndarray:
        g = np.zeros(point.shape[-1])
        for w, a, b in self.terms:
            g[a] += w / point[b]
            g[b] -= w * point[a] / point[b] ** 2
        return g


def _peer_adjusted(fn: _Ratio, width: int, n_peers: int) -> _Ratio:
    """Mean over peers ``i`` of ``fn(judge block i) − fn(peer block i)``; blocks of ``width`` columns laid out
    after the judge's own block as (judge on peer 0's subset, peer 0, judge on peer 1's subset, peer 1, ...)."""
    terms: list[tuple[float, int, int]] = []
    for i in range(n_peers):
        terms += (fn.shifted(width * (1 + 2 * i)) - fn.shifted(width * (2 + 2 * i))).scaled(1.0 / n_peers).terms
    return _Ratio(tuple(terms))


def _delta_p(fn: _Ratio, clusters: np.ndarray, est: float) -> float:
    """Two-sided p-value of ``fn = 0`` from the linearised (delta-method) cluster variance."""
    c = clusters.shape[0]
    if c < 2 or not math.isfinite(est):
        return math.nan
    mean = clusters.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (clusters - mean) @ fn.gradient(mean)
    if not np.isfinite(z).all():
        return math.nan
    se = float(np.sqrt(z.var(ddof=1) / c))
    if se <= 0:
        return math.nan
    return float(math.erfc(abs(est) / se / math.sqrt(2.0)))  # 2·Φ(−|z|), accurate in the tail


def _estimates(named: Mapping[str, _Ratio], clusters: np.ndarray, n_resamples: int, rng: np.random.Generator,
               confidence_level: float) -> dict[str, tuple[float, float, float, float, int]]:
    """name -> (estimate, ci_low, ci_high, p_value, undefined replicates); one bootstrap for all names."""
    total = clusters.sum(axis=0)
    reps = bootstrap_stats(clusters, n_resamples, rng) if n_resamples > 0 else np.empty((0, clusters.shape[1]))
    out = {}
    for name, fn in named.items():
        est = float(fn(total))
        if n_resamples > 0 and math.isfinite(est) and clusters.shape[0] >= 2:
            lo, hi, bad = percentile_interval(fn(reps), confidence_level)
        else:
            lo, hi, bad = math.nan, math.nan, 0
        out[name] = (est, lo, hi, _delta_p(fn, clusters, est), bad)
    return out


def _cluster_sums(stats: np.ndarray, cluster: np.ndarray) -> np.ndarray:
    """Sum item statistics within clusters (codes ``0..C-1``)."""
    codes, uniq = pd.factorize(cluster, sort=True)
    out = np.zeros((len(uniq), stats.shape[1]))
    np.add.at(out, codes, stats)
    return out


# --------------------------------------------------------------------------------------------------
# options and shared helpers
# --------------------------------------------------------------------------------------------------


def _norm(name: Any) -> str:
    return str(name).strip().lower()


def _options(options: Mapping[str, Any] | None) -> tuple[dict[str, str], dict[str, str]]:
    options = dict(options or {})
    unknown = set(options) - {"families", "generator_families"}
    if unknown:
        raise ProbeUnavailable(f"unknown self_preference option(s) {sorted(unknown)}; the options are "
                               "families (judge -> model family) and generator_families (generator -> family)")
    fam = {str(k): _norm(v) for k, v in dict(options.get("families") or {}).items()}
    gen = {_norm(k): _norm(v) for k, v in dict(options.get("generator_families") or {}).items()}
    return fam, gen


def _gen_family(names: pd.Series | np.ndarray, gen: Mapping[str, str]) -> np.ndarray:
    """Family of each generator name (None where missing)."""
    codes, uniq = pd.factorize(pd.Series(np.asarray(names, dtype=object)))
    fams = np.array([gen.get(_norm(u), _norm(u)) for u in uniq] + [None], dtype=object)
    return fams[codes]  # code -1 (missing) picks the trailing None


@dataclass
class _Items:
    """Numpy view of an aligned table: item code of every row, the items' first rows, rater and kind arrays."""

    codes: np.ndarray       # item code (0..n-1, items sorted) of every row of table.data
    first: np.ndarray       # index (position) of each item's first row
    n: int
    rater: np.ndarray
    human: np.ndarray       # bool: row is an annotator's

    @classmethod
    def of(cls, data: pd.DataFrame) -> _Items:
        codes, uniq = pd.factorize(data["item_id"], sort=True)
        _, first = np.unique(codes, return_index=True)
        return cls(codes=codes, first=first, n=len(uniq), rater=data["rater"].to_numpy(dtype=object),
                   human=(data["rater_kind"] == "human").to_numpy())

    def attr(self, data: pd.DataFrame, col: str) -> np.ndarray:
        return data[col].to_numpy(dtype=object)[self.first]


def _has_column(data: pd.DataFrame, col: str) -> bool:
    return col in data.columns and bool(data[col].notna().any())


def _peers(judge: str, family: str, fam: Mapping[str, str], judges: Sequence[str]) -> list[str]:
    return [p for p in judges if p != judge and p in fam and fam[p] != family]


def _row(metric: str, judge: str, vals: tuple[float, float, float, float, int], n: int, level: float,
         method: str, note: str = "") -> dict[str, Any]:
    est, lo, hi, p, bad = vals
    if bad:
        note = "; ".join(x for x in (note, f"{bad} bootstrap replicate(s) undefined and left out") if x)
    e = estimate(metric, est, lo, hi, n=n, confidence_level=level, method=method, note=note)
    return probe_row(PROBE, judge, e, reference="humans", p_value=p)


def _bar(judge: str, metric: str, group: str, vals: tuple[float, float, float, float, int]) -> dict[str, Any]:
    return {"judge": judge, "metric": metric, "group": group, "value": vals[0], "ci_low": vals[1],
            "ci_high": vals[2]}


BAR_COLUMNS = ["judge", "metric", "group", "value", "ci_low", "ci_high"]


# --------------------------------------------------------------------------------------------------
# the probe
# --------------------------------------------------------------------------------------------------


def self_preference_probe(table: Any, *, options: Mapping[str, Any] | None = None, confidence_level: float = 0.95,
                          n_resamples: int = 1000, rng: Any = None) -> ProbeResult:
    """Self-preference of each judge with a declared model family (see the module docstring).

    Parameters
    ----------
    table : AlignedTable
        Pairwise with ``generator_a`` / ``generator_b``, or pointwise with ``system`` (and optionally
        ``group``: several responses per prompt, which adds ``self_rank_difference``).
    options : dict
        ``families``: judge -> model family; ``generator_families``: generator -> family (default: the
        generator's own name).
    confidence_level : float
    n_resamples : int
        Bootstrap resamples (0: no intervals).
    rng : numpy Generator or seed

    Returns
    -------
    ProbeResult
        ``rows``: ``self_preference_eo`` and ``self_preference_inflation`` (pairwise) or
        ``self_preference_did`` (pointwise), ``self_rank_difference`` (several systems per prompt), and
        ``<metric>_peer_adjusted`` when peers exist. ``counts``: judge -> the pairs / items / votes that
        went in. ``frames["bars"]``: ``judge, metric, group, value, ci_low, ci_high``, the components of
        each metric (EO: ``own`` = P(judge prefers own | human prefers own), ``other`` = P(judge prefers
        other | human prefers other); inflation: ``judge`` / ``human`` win rate of own-family responses;
        DiD: ``own`` / ``other`` mean judge − human; rank: ``judge`` / ``human`` mean rank of the own
        system).

    Raises
    ------
    ProbeUnavailable
        No generator column, no family for any judge, or no judge with a self-vs-other comparison.

    Examples
    --------
    >>> from metajudge.simulate import JudgeSpec, simulate_pairwise
    >>> sim = simulate_pairwise(300, [JudgeSpec("selfish", family="dune", self_preference=2.0),
    ...                               JudgeSpec("fair", family="cirrus")], seed=3)
    >>> res = self_preference_probe(sim.align(), options=sim.probe_options()["self_preference"],
    ...                             n_resamples=200, rng=0)
    >>> eo = {r["judge"]: r for r in res.rows if r["metric"] == "self_preference_eo_peer_adjusted"}
    >>> eo["selfish"]["estimate"] > 0.2, eo["selfish"]["p_value"] < 0.01
    (True, True)
    """
    fam, gen = _options(options)
    gen_rng = as_generator(rng)
    data = table.data
    pairwise = table.scale.kind == "pairwise"
    if pairwise and not (_has_column(data, "generator_a") and _has_column(data, "generator_b")):
        raise ProbeUnavailable(NO_GENERATOR)
    if not pairwise and not _has_column(data, "system"):
        raise ProbeUnavailable(NO_GENERATOR)
    judges = list(table.judges)
    missing = [j for j in judges if j not in fam]
    if len(missing) == len(judges):
        raise ProbeUnavailable(f"no family for judge {', '.join(map(repr, missing))}: set "
                               "probes.self_preference.families (judge -> model family)")
    res = ProbeResult(probe=PROBE)
    res.skipped += [f"no family for judge '{j}': set probes.self_preference.families" for j in missing]
    extra = sorted(set(fam) - set(judges))
    if extra:
        res.skipped.append(f"probes.self_preference.families names no judge of this run: {extra}")
    cluster_col = "group" if "group" in data.columns and data["group"].notna().all() else None
    method = "bootstrap-cluster" + (" (group)" if cluster_col else "")
    bars: list[dict[str, Any]] = []
    if pairwise:
        _pairwise(table, fam, gen, judges, cluster_col, method, confidence_level, n_resamples, gen_rng, res, bars)
    else:
        _pointwise(table, fam, gen, judges, cluster_col, method, confidence_level, n_resamples, gen_rng, res, bars)
    if not res.rows:
        raise ProbeUnavailable("; ".join(res.skipped) or "no self-vs-other comparison in the data")
    res.frames["bars"] = pd.DataFrame(bars, columns=BAR_COLUMNS)
    return res


# --------------------------------------------------------------------------------------------------
# pairwise
# --------------------------------------------------------------------------------------------------

# per-rater block of item statistics on the judge's self-vs-other pairs
_PW_COLS = ("h_own", "h_own_j_own", "h_oth", "h_oth_j_oth", "has", "j_win", "h_win")
_EO = _Ratio(((1.0, 1, 0), (-1.0, 3, 2)))
_INFL = _Ratio(((1.0, 5, 4), (-1.0, 6, 4)))
_REC_OWN, _REC_OTH = _Ratio(((1.0, 1, 0),)), _Ratio(((1.0, 3, 2),))
_WIN_J, _WIN_H = _Ratio(((1.0, 5, 4),)), _Ratio(((1.0, 6, 4),))


def _counts3(item_codes: np.ndarray, cat: np.ndarray, n: int) -> np.ndarray:
    """(n, 3) counts of A / tie / B per item."""
    return np.bincount(item_codes * 3 + cat, minlength=3 * n).reshape(n, 3).astype(float)


def _pw_block(runs: np.ndarray, humans: np.ndarray, a_own: np.ndarray) -> np.ndarray:
    """Statistics (n_sel, 7) of one rater's runs on the selected pairs (``a_own``: A is the own response)."""
    n_runs = runs.sum(axis=1)
    has = (n_runs > 0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        j = np.where(has[:, None] > 0, runs / np.where(n_runs > 0, n_runs, 1)[:, None], 0.0)
        h = humans / humans.sum(axis=1, keepdims=True)
    j_own = np.where(a_own, j[:, 0], j[:, 2])
    j_oth = np.where(a_own, j[:, 2], j[:, 0])
    h_own = np.where(a_own, h[:, 0], h[:, 2]) * has
    h_oth = np.where(a_own, h[:, 2], h[:, 0]) * has
    return np.column_stack([h_own, h_own * j_own, h_oth, h_oth * j_oth, has,
                            has * (j_own + j[:, 1] / 2), has * (h_own + h[:, 1] / 2)])


def _pairwise(table: Any, fam: Mapping[str, str], gen: Mapping[str, str], judges: list[str],
              cluster_col: str | None, method: str, level: float, n_resamples: int, rng: np.random.Generator,
              res: ProbeResult, bars: list[dict[str, Any]]) -> None:
    data = table.data
    k = table.scale.n_levels
    iv = _Items.of(data)
    n = iv.n
    fa, fb = _gen_family(iv.attr(data, "generator_a"), gen), _gen_family(iv.attr(data, "generator_b"), gen)
    clusters = iv.attr(data, cluster_col) if cluster_col else np.arange(n)
    value = data["value"].to_numpy(dtype=float)
    cat_all = np.where(value == 0, 0, np.where(value == k - 1, 2, 1))

    def counts(mask: np.ndarray) -> np.ndarray:
        ok = mask & np.isfinite(value)
        return _counts3(iv.codes[ok], cat_all[ok], n)

    human = counts(iv.human)
    runs = {j: counts(iv.rater == j) for j in judges}
    for judge in judges:
        if judge not in fam:
            continue
        f = fam[judge]
        own_a, own_b = fa == f, fb == f
        both, neither = int((own_a & own_b).sum()), int((~own_a & ~own_b).sum())
        pair = own_a != own_b
        no_judge = pair & (runs[judge].sum(axis=1) == 0)
        no_human = pair & (human.sum(axis=1) == 0)
        sel = pair & ~no_judge & ~no_human
        if not sel.any():
            res.skipped.append(
                f"judge '{judge}' (family '{f}'): no pair with exactly one response of its family and a usable "
                f"verdict ({int(pair.sum())} self-vs-other pair(s), {both} with both responses of its family); "
                f"generator families seen: {sorted(set(fa) | set(fb), key=str)[:12]}")
            continue
        a_own = own_a[sel]
        hs = human[sel]
        blocks = [_pw_block(runs[judge][sel], hs, a_own)]
        other_fam = np.where(a_own, fb[sel], fa[sel])
        j_has = runs[judge][sel].sum(axis=1) > 0
        n_sel = int(sel.sum())
        peers = []
        for p in _peers(judge, f, fam, judges):
            # matched subset: pairs both judged, whose other response is not of the peer's own family (it would
            # carry the peer's own self-preference); the judge is re-scored on the same subset
            keep = (j_has & (runs[p][sel].sum(axis=1) > 0) & (other_fam != fam[p]))[:, None]
            if keep.sum() >= max(1.0, MIN_PEER_SHARE * n_sel):
                peers.append(p)
                blocks += [_pw_block(runs[judge][sel] * keep, hs, a_own), _pw_block(runs[p][sel] * keep, hs, a_own)]
        stats = _cluster_sums(np.hstack(blocks), clusters[sel])
        d = len(_PW_COLS)
        named: dict[str, _Ratio] = {"eo": _EO, "infl": _INFL, "rec_own": _REC_OWN, "rec_oth": _REC_OTH,
                                    "win_j": _WIN_J, "win_h": _WIN_H}
        if peers:
            named["eo_adj"] = _peer_adjusted(_EO, d, len(peers))
            named["infl_adj"] = _peer_adjusted(_INFL, d, len(peers))
        v = _estimates(named, stats, n_resamples, rng, level)
        n_items = int(sel.sum())
        jr = runs[judge][sel]
        j_own_runs = float(np.where(a_own, jr[:, 0], jr[:, 2]).sum())
        j_oth_runs = float(np.where(a_own, jr[:, 2], jr[:, 0]).sum())
        h_own_votes = float(np.where(a_own, hs[:, 0], hs[:, 2]).sum())
        h_oth_votes = float(np.where(a_own, hs[:, 2], hs[:, 0]).sum())
        note_eo = "" if v["rec_own"][0] == v["rec_own"][0] and v["rec_oth"][0] == v["rec_oth"][0] else \
            "undefined: no human vote prefers the own response, or none prefers the other"
        res.rows.append(_row("self_preference_eo", judge, v["eo"], n_items, level, method, note_eo))
        res.rows.append(_row("self_preference_inflation", judge, v["infl"], n_items, level, method))
        if peers:
            pn = f"peers: {', '.join(peers)}"
            res.rows.append(_row("self_preference_eo_peer_adjusted", judge, v["eo_adj"], n_items, level, method, pn))
            res.rows.append(_row("self_preference_inflation_peer_adjusted", judge, v["infl_adj"], n_items, level,
                                 method, pn))
        bars += [_bar(judge, "self_preference_eo", "own", v["rec_own"]),
                 _bar(judge, "self_preference_eo", "other", v["rec_oth"]),
                 _bar(judge, "self_preference_inflation", "judge", v["win_j"]),
                 _bar(judge, "self_preference_inflation", "human", v["win_h"])]
        res.counts[judge] = {
            "self_vs_other_pairs": n_items, "both_own_pairs": both, "neither_own_pairs": neither,
            "pairs_without_judge_verdict": int(no_judge.sum()),
            "pairs_without_human_vote": int((no_human & ~no_judge).sum()),
            "judge_runs_own": int(j_own_runs), "judge_runs_other": int(j_oth_runs),
            "judge_runs_tie": int(jr[:, 1].sum()),
            "human_votes_own": int(h_own_votes), "human_votes_other": int(h_oth_votes),
            "human_votes_tie": int(hs[:, 1].sum()), "peers": len(peers), "clusters": int(stats.shape[0]),
        }
    n_used = len(res.counts)
    res.description = (
        f"Self-preference of {n_used} judge(s) with a declared family, on self-vs-other pairs (exactly one "
        "response from the judge's family): equal-opportunity bias (Wataoka et al. 2024) and win-rate inflation "
        f"against the annotators' votes; {level:.0%} {method} intervals ({n_resamples} resamples), Wald tests "
        "with delta-method standard errors. Peer-adjusted values subtract the same metric of the other-family "
        "judges on the same pairs, which removes the part due to how hard the pairs are.")


# --------------------------------------------------------------------------------------------------
# pointwise
# --------------------------------------------------------------------------------------------------

_DID = _Ratio(((1.0, 1, 0), (-1.0, 3, 2)))
_MEAN_OWN, _MEAN_OTH = _Ratio(((1.0, 1, 0),)), _Ratio(((1.0, 3, 2),))


def _numeric_values(table: Any) -> np.ndarray:
    """Numeric value of each row of ``table.data`` (see the module docstring)."""
    scale = table.scale
    v = table.data["value"].to_numpy(dtype=float)
    if scale.kind == "interval":
        return v
    if scale.kind == "nominal":
        raise ProbeUnavailable("pointwise self-preference needs an ordered scale (binary, ordinal or interval); "
                               "the scale is nominal")
    if scale.kind == "binary":
        return np.where(np.isfinite(v), (v == scale.positive_index).astype(float), np.nan)
    vals = scale.level_values()
    out = np.full(v.shape, np.nan)
    ok = np.isfinite(v)
    out[ok] = vals[v[ok].astype(int)]
    return out


def _pointwise(table: Any, fam: Mapping[str, str], gen: Mapping[str, str], judges: list[str],
               cluster_col: str | None, method: str, level: float, n_resamples: int, rng: np.random.Generator,
               res: ProbeResult, bars: list[dict[str, Any]]) -> None:
    data = table.data
    num = _numeric_values(table)
    iv = _Items.of(data)
    sys_fam = _gen_family(iv.attr(data, "system"), gen)
    clusters = iv.attr(data, cluster_col) if cluster_col else np.arange(iv.n)

    def item_means(mask: np.ndarray) -> np.ndarray:
        ok = mask & np.isfinite(num)
        tot = np.bincount(iv.codes[ok], weights=num[ok], minlength=iv.n)
        cnt = np.bincount(iv.codes[ok], minlength=iv.n)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(cnt > 0, tot / cnt, np.nan)

    human = item_means(iv.human)
    jm = {j: item_means(iv.rater == j) for j in judges}

    def block(j_vals: np.ndarray, own: np.ndarray) -> np.ndarray:
        d = j_vals - human
        ok = np.isfinite(d)
        d0 = np.where(ok, d, 0.0)
        return np.column_stack([own * ok, own * ok * d0, ~own * ok, ~own * ok * d0]).astype(float)

    for judge in judges:
        if judge not in fam:
            continue
        f = fam[judge]
        own = sys_fam == f
        usable = np.isfinite(jm[judge] - human)
        n_own, n_oth = int((own & usable).sum()), int((~own & usable).sum())
        if n_own == 0 or n_oth == 0:
            res.skipped.append(
                f"judge '{judge}' (family '{f}'): needs outputs of its own family and of others with a judge score "
                f"and a human score; found {n_own} own and {n_oth} other; system families seen: "
                f"{sorted(set(sys_fam), key=str)[:12]}")
            continue
        peers, blocks = [], [block(jm[judge], own)]
        for p in _peers(judge, f, fam, judges):
            # matched subset: items scored by both, without outputs of the peer's own family (they would carry
            # the peer's own self-preference); the judge is re-scored on the same subset
            keep = np.isfinite(jm[judge]) & np.isfinite(jm[p]) & (sys_fam != fam[p])
            if ((keep & own).any() and (keep & ~own).any()
                    and keep.sum() >= MIN_PEER_SHARE * (n_own + n_oth)):
                peers.append(p)
                blocks += [block(np.where(keep, jm[judge], np.nan), own), block(np.where(keep, jm[p], np.nan), own)]
        stats = _cluster_sums(np.hstack(blocks), clusters)
        named: dict[str, _Ratio] = {"did": _DID, "own": _MEAN_OWN, "oth": _MEAN_OTH}
        if peers:
            named["did_adj"] = _peer_adjusted(_DID, 4, len(peers))
        v = _estimates(named, stats, n_resamples, rng, level)
        n_items = n_own + n_oth
        res.rows.append(_row("self_preference_did", judge, v["did"], n_items, level, method))
        if peers:
            res.rows.append(_row("self_preference_did_peer_adjusted", judge, v["did_adj"], n_items, level, method,
                                 f"peers: {', '.join(peers)}"))
        bars += [_bar(judge, "self_preference_did", "own", v["own"]),
                 _bar(judge, "self_preference_did", "other", v["oth"])]
        res.counts[judge] = {"own_items": n_own, "other_items": n_oth,
                             "items_without_judge_score": int((~np.isfinite(jm[judge]) & np.isfinite(human)).sum()),
                             "peers": len(peers), "clusters": int(stats.shape[0])}
    if cluster_col:
        scores = pd.DataFrame({"prompt": data[cluster_col].to_numpy(), "system": data["system"].to_numpy(),
                               "rater": iv.rater, "score": num})
        scores = scores[np.isfinite(num) & scores["system"].notna().to_numpy()]
        if scores.groupby("prompt")["system"].nunique().max() > 1:
            _rank_rows(scores, humans=list(table.humans),
                       judges=[j for j in judges if j in fam], fam=fam, gen=gen, level=level,
                       n_resamples=n_resamples, rng=rng, res=res, bars=bars)
    n_used = len(res.counts)
    res.description = (
        f"Self-preference of {n_used} judge(s) with a declared family on pointwise scores: difference in "
        "differences of (judge − mean human score) between outputs of the judge's family and other outputs"
        + (", and the judge's rank of its own system's response among the prompt's responses against the human "
           "consensus rank" if cluster_col else "")
        + f"; {level:.0%} {method} intervals ({n_resamples} resamples), Wald tests with delta-method standard "
        "errors. Peer-adjusted values subtract the same metric of the other-family judges on the same items.")


# --------------------------------------------------------------------------------------------------
# rankings (several systems per prompt)
# --------------------------------------------------------------------------------------------------

_RANK = _Ratio(((1.0, 1, 0),))


def _rank_matrix(scores: pd.DataFrame, rater_rows: pd.Series, prompts: pd.Index, systems: pd.Index) -> np.ndarray:
    """(prompts, systems) matrix of the mean score of the selected rows (NaN where missing)."""
    sub = scores[rater_rows]
    m = sub.groupby(["prompt", "system"], sort=False)["score"].mean()
    out = np.full((len(prompts), len(systems)), np.nan)
    rows = prompts.get_indexer(m.index.get_level_values(0))
    out[rows, systems.get_indexer(m.index.get_level_values(1))] = m.to_numpy()
    return out


def _ranks(mat: np.ndarray) -> np.ndarray:
    """Average-tie ranks within rows, 1 = lowest score; NaN cells are left out (and stay NaN).

    rank(x) = #{values < x} + (#{values = x} + 1) / 2 over the row's finite values (vectorised; rows are short).
    """
    x = mat[:, :, None]
    y = mat[:, None, :]
    below = (y < x).sum(axis=2)
    equal = (y == x).sum(axis=2)
    return np.where(np.isfinite(mat), below + (equal + 1) / 2, np.nan)


def _rank_rows(scores: pd.DataFrame, *, humans: Sequence[str], judges: Sequence[str], fam: Mapping[str, str],
               gen: Mapping[str, str], level: float, n_resamples: int, rng: np.random.Generator,
               res: ProbeResult, bars: list[dict[str, Any]]) -> None:
    prompts = pd.Index(sorted(scores["prompt"].unique()))
    systems = pd.Index(sorted(scores["system"].unique()))
    sys_fam = _gen_family(pd.Series(systems), gen)
    is_human = scores["rater"].isin(set(humans))
    # each annotator's score first, then the mean over annotators (an annotator's repeats count once)
    per_h = scores[is_human].groupby(["prompt", "system", "rater"], sort=False)["score"].mean().reset_index()
    consensus = _rank_matrix(per_h, pd.Series(True, index=per_h.index), prompts, systems)
    judge_scores = {j: _rank_matrix(scores, scores["rater"] == j, prompts, systems) for j in judges}

    def diffs(judge_mat: np.ndarray, own: np.ndarray, drop: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        both = np.isfinite(judge_mat) & np.isfinite(consensus)
        if drop is not None:
            both &= ~drop[None, :]
        jm = np.where(both, judge_mat, np.nan)
        hm = np.where(both, consensus, np.nan)
        with np.errstate(invalid="ignore"):
            informative = (np.nanmax(np.where(both, jm, -np.inf), axis=1)
                           > np.nanmin(np.where(both, jm, np.inf), axis=1)) & (both.sum(axis=1) >= 2)
        jr, hr = _ranks(jm), _ranks(hm)
        o = own[None, :] & both
        has = informative & o.any(axis=1)
        cnt = np.where(has, o.sum(axis=1), 1)
        jrank = np.where(has, np.where(o, jr, 0.0).sum(axis=1) / cnt, 0.0)
        hrank = np.where(has, np.where(o, hr, 0.0).sum(axis=1) / cnt, 0.0)
        return has, jrank, hrank

    def block(h: np.ndarray, j: np.ndarray, c: np.ndarray) -> np.ndarray:
        return np.column_stack([h, h * (j - c), h * j, h * c]).astype(float)

    for judge in judges:
        f = fam[judge]
        own = sys_fam == f
        if not own.any():
            res.skipped.append(f"judge '{judge}' (family '{f}'): no ranked system of its family; system families "
                               f"seen: {sorted(set(sys_fam), key=str)[:12]}")
            continue
        has, jr, hr = diffs(judge_scores[judge], own)
        if not has.any():
            res.skipped.append(f"judge '{judge}' (family '{f}'): no prompt where it ranked its own system among "
                               "others with a human consensus (or all its scores on a prompt were equal)")
            continue
        peers, blocks = [], [block(has, jr, hr)]
        for p in _peers(judge, f, fam, judges):
            # matched comparison: both rankings without the peer's own-family systems (the peer's own
            # self-preference would move them), on the prompts both ranked
            drop = sys_fam == fam[p]
            h1, j1, c1 = diffs(judge_scores[judge], own, drop)
            h2, j2, c2 = diffs(judge_scores[p], own, drop)
            common = has & h1 & h2
            if common.any() and common.sum() >= MIN_PEER_SHARE * has.sum():
                peers.append(p)
                blocks += [block(common, j1, c1), block(common, j2, c2)]
        stats = np.hstack(blocks)[has]
        named: dict[str, _Ratio] = {"diff": _RANK, "judge": _Ratio(((1.0, 2, 0),)), "human": _Ratio(((1.0, 3, 0),))}
        if peers:
            named["adj"] = _peer_adjusted(_RANK, 4, len(peers))
        v = _estimates(named, stats, n_resamples, rng, level)
        n_p = int(has.sum())
        method = "bootstrap-cluster (prompt)"
        res.rows.append(_row("self_rank_difference", judge, v["diff"], n_p, level, method))
        if peers:
            res.rows.append(_row("self_rank_difference_peer_adjusted", judge, v["adj"], n_p, level, method,
                                 f"peers: {', '.join(peers)}"))
        bars += [_bar(judge, "self_rank_difference", "judge", v["judge"]),
                 _bar(judge, "self_rank_difference", "human", v["human"])]
        res.counts.setdefault(judge, {}).update({
            "ranked_prompts": n_p, "prompts_uninformative": int(len(prompts) - n_p), "rank_peers": len(peers)})


def self_rank_bias(scores: pd.DataFrame, *, humans: Sequence[str], families: Mapping[str, str],
                   generator_families: Mapping[str, str] | None = None, prompt: str = "prompt",
                   system: str = "system", rater: str = "rater", score: str = "score",
                   higher_is_better: bool = True, confidence_level: float = 0.95, n_resamples: int = 1000,
                   rng: Any = None) -> ProbeResult:
    """Self-rank bias on rankings: each judge's rank of its own system against the human consensus rank.

    For every prompt on which a judge scored several systems, the systems are ranked ``1..m`` (``m`` =
    best, ties averaged) by the judge's score and by the human consensus (the mean of the annotators'
    scores, e.g. of their rank positions, i.e. a Borda count), over the systems both have scored.
    ``self_rank_difference`` = mean over prompts of (judge rank − consensus rank) of the judge's own-family
    system(s); > 0 means the judge places its own system higher than the humans do. Prompts where the
    judge gave every system the same score carry no ranking and are left out (counted). With other-family
    judges present, ``self_rank_difference_peer_adjusted`` subtracts their mean difference on the same
    system and prompts (systems that all LLM judges over-rate, or that regress to the middle under a noisy
    judge, are not self-preference). CI: percentile bootstrap over prompts; p: Wald, delta method.

    Parameters
    ----------
    scores : DataFrame
        Long: one row per (prompt, system, rater) with a numeric score (higher = better unless
        ``higher_is_better`` is false), e.g. CoBBLEr's annotator rank scores and evaluators' pairwise win
        counts. Repeated rows of a rater are averaged.
    humans : sequence of str
        The raters that are annotators; every other rater with a family is a judge.
    families : mapping judge -> family
    generator_families : mapping system -> family, optional (default: the system name)
    prompt, system, rater, score : str
        Column names.
    higher_is_better : bool, default True
    confidence_level, n_resamples, rng
        As in the probes.

    Returns
    -------
    ProbeResult
        ``probe = "self_preference"``; rows ``self_rank_difference`` (+ ``_peer_adjusted``); counts
        ``ranked_prompts``, ``prompts_uninformative``, ``rank_peers``; ``frames["bars"]`` with the mean
        judge and human rank of the own system.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [(p, s, r, sc) for p in range(4) for r, order in (("h1", "abc"), ("h2", "abc"), ("b", "bac"))
    ...         for sc, s in enumerate(order)]
    >>> df = pd.DataFrame(rows, columns=["prompt", "system", "rater", "score"])
    >>> res = self_rank_bias(df, humans=["h1", "h2"], families={"b": "b"}, n_resamples=0)
    >>> res.rows[0]["metric"], res.rows[0]["estimate"]
    ('self_rank_difference', -1.0)
    """
    df = pd.DataFrame({"prompt": scores[prompt].to_numpy(), "system": scores[system].astype(str).to_numpy(),
                       "rater": scores[rater].astype(str).to_numpy(), "score": numeric(scores[score])})
    if not higher_is_better:
        df["score"] = -df["score"]
    df = df[np.isfinite(df["score"].to_numpy())]
    fam, gen = _options({"families": families, "generator_families": generator_families or {}})
    humans = [str(h) for h in humans]
    raters = sorted(set(df["rater"]) - set(humans))
    if not set(humans) & set(df["rater"]):
        raise ProbeUnavailable("no annotator rows: `humans` names none of the raters in the scores")
    judges = [j for j in raters if j in fam]
    if not judges:
        raise ProbeUnavailable(f"no family for judge {', '.join(map(repr, raters))}: set families")
    res = ProbeResult(probe=PROBE)
    bars: list[dict[str, Any]] = []
    _rank_rows(df, humans=humans, judges=judges, fam=fam, gen=gen, level=confidence_level,
               n_resamples=n_resamples, rng=as_generator(rng), res=res, bars=bars)
    if not res.rows:
        raise ProbeUnavailable("; ".join(res.skipped) or "no self-rank comparison in the data")
    res.frames["bars"] = pd.DataFrame(bars, columns=BAR_COLUMNS)
    res.description = (
        f"Self-rank bias of {len(res.counts)} judge(s): rank (1..m, m = best) of the judge's own system among the "
        "systems of each prompt, against the rank by the mean annotator score; "
        f"{confidence_level:.0%} prompt-bootstrap intervals ({n_resamples} resamples), Wald tests.")
    return res
