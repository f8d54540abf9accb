"""Position bias of pairwise judges (METRICS.md §5 "Position").

Each pair is judged in both presentation orders: the *first run* shows the item's response A first (order
``AB``), the *swapped run* shows B first (order ``BA``). In the shown frame a verdict is ``A`` (the first slot),
``B`` (the second slot) or ``C`` (a tie). Shi et al. (2024) classify the shown-frame pair (first run,
swapped run):

- consistent: (A,B), (B,A), (C,C) — the same response wins (or the tie stays) when the order is swapped;
- primacy: (A,A), (A,C), (C,A) — the verdict moves towards whatever is shown first;
- recency: (B,B), (B,C), (C,B) — the verdict moves towards whatever is shown second.

With shown codes ``s1, s2`` on ``0..K-1`` (0 = first slot, K-1 = second slot, 1 = tie when K = 3) the pair is
consistent iff ``s1 + s2 = K - 1``, primacy iff ``s1 + s2 < K - 1`` and recency iff ``s1 + s2 > K - 1``.

Pairing
-------
For each judge, the rows of one item with order ``AB`` and ``BA`` and the **same repeat value** form a pair
(rows without a repeat column pair with each other). A comparison run t times in both orders therefore gives
t pairs of that item; every estimate pools the pairs and the confidence intervals resample **items** (all of
an item's pairs together), never pairs or verdicts. A run whose mirror (same item and repeat, other order)
was never recorded is a *missing mirror*; a pair in which one or both verdicts were recorded but are not
usable (unparseable, outside the scale or empty: :attr:`AlignedTable.excluded`) is an *unparseable pair*.
Both are counted and reported, and by default neither enters any estimate. The item-frame verdict of a run
is derived from its shown code and its order, so data stored as shown and the same data stored already
mapped back to the item frame (``order_frame`` "shown" / "item" in the config) give identical results.

Two options reproduce published conventions (both off by default):

- ``missing_mirror: consistent`` counts a usable run whose mirror is missing as a consistent pair (the
  released split files of Shi et al. 2024 put such runs in ``consistent_cmp.tsv``);
- ``both_unparseable: agree`` counts a pair with two unusable verdicts as consistent (JudgeBench's
  ``compute_final_metrics`` compares the two null decisions with ``!=`` and so counts them as agreeing).

The options change only the consistency classification (``consistent``, ``classified``, position consistency
and preference fairness, whose ``n`` is the number of classified pairs). Every other estimate uses the pairs
whose two verdicts are both usable.

Estimates (per judge)
---------------------
position_consistency
    ``PC = #consistent / #classified`` (Shi et al. 2024). Wilson interval when each item gives one pair,
    item-clustered bootstrap otherwise.
preference_fairness
    ``PF = (#rec·irr − #pri·ipr) / n`` with ``ipr = #pri / (#pri + #rec)``, ``irr = 1 − ipr`` and ``n`` the
    classified pairs; algebraically ``PF = (#rec − #pri) / n``. In [−1, 1]; > 0 recency, < 0 primacy. (Shi et
    al. rescale a raw score by its range ``±n`` per judge and task, which is the same number.) Item-clustered
    bootstrap interval; p-value: exact two-sided sign test over items of ``#rec − #pri`` (with one pair per item,
    the binomial test of #primacy against #recency pairs).
first_position_rate
    Share of decisive verdicts (ties left out) that pick the response shown first, over the verdicts of the
    usable pairs; 0.5 means no position preference. Item-clustered bootstrap interval. The test is at the
    **pair** (item) level, because the two verdicts of one pair share the content of the pair and are not
    independent trials (METRICS.md §5; a binomial test over 2n verdicts is anti-conservative): for each item,
    ``d = #first-slot picks − #second-slot picks`` over its pairs; under no position effect the two orders are
    exchangeable, which turns ``d`` into ``−d``, so ``d`` is symmetric about 0 and the exact two-sided sign
    test over the items with ``d ≠ 0`` applies (McNemar 1947: the sign test on discordant pairs). With one pair
    per item and no ties this compares the pairs whose two decisive verdicts both pick the first slot (A,A)
    with those that both pick the second (B,B). With one pair per item, ``d > 0`` exactly for primacy pairs
    and ``d < 0`` for recency pairs, so this p-value and preference fairness's are the same test.
flip_rate
    Share of usable pairs whose item-frame verdict changes between the two orders (including a change to or
    from a tie). Equal to ``1 − PC`` on the default conventions; the counts also give ``decisive_flips``, the
    pairs whose winner reverses (A,A or B,B).
tie_rate
    Share of tie verdicts among the verdicts of the usable pairs (3-level scales only).
both_order_accuracy
    JudgeBench rule (Tan et al. 2025, ``utils/metrics.py``): map the swapped verdict back to the item frame;
    each of the two votes scores +1 if it equals the gold label (:attr:`AlignedTable.reference`), −1 if it is
    the opposite decisive label, 0 otherwise (a tie vote against a decisive gold label); the pair is correct
    iff the net is positive. So A+A and A+tie are correct for gold A, while tie+tie and the inconsistent A+B
    are wrong. For a tie gold label (JudgeBench has none) the code's ``flip`` leaves a tie unchanged, so a tie
    vote scores +1 and a decisive vote 0: tie+tie and tie+A are correct, A+B is wrong. Counts:
    ``inconsistent`` (the two item-frame verdicts differ, JudgeBench's ``n_inconsistent``) and
    ``contradictory`` (A+B). Wilson interval when each item gives one pair, bootstrap otherwise.
repetition_stability
    When a comparison was run several times in the same order: for each (item, order) with at least two usable
    verdicts, the share of the most frequent verdict; the mean over those units (Shi et al. 2024, who treat the
    two orders as separate instances). Unusable verdicts are left out of the share. Item-clustered bootstrap.

One order per item
------------------
When a judge saw each item in one recorded order only and the gold set records the order the humans saw
(``gold.columns.order``), the probe reports the judge's first-position rate (sign test over items) and
``first_position_excess``: the judge's first-position rate minus the humans' on the same items (those where
both gave a decisive verdict), with a paired item-clustered bootstrap interval and an exact sign test over
items of the per-item difference (with one judge verdict and one human verdict per item this is McNemar's exact
test). A ``first_position_rate`` row for the humans (``rater_kind`` human, judge ``humans``) is added.

References
----------
Shi, L. et al. (2024). Judging the Judges: A Systematic Investigation of Position Bias in Pairwise Comparative
Assessments by LLMs. arXiv:2406.07791.
Tan, S. et al. (2025). JudgeBench: A Benchmark for Evaluating LLM-Based Judges. ICLR 2025.
McNemar, Q. (1947). Note on the sampling error of the difference between correlated proportions or
percentages. Psychometrika 12, 153–157.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from ..errors import ConfigError
from ..estimate import Estimate
from ..metrics.bootstrap import (as_generator, bootstrap_stats, evaluate_replicates, percentile_interval,
                                 wilson_interval)
from ..scales import canonical_label
from .base import ProbeResult, ProbeUnavailable, estimate, probe_row

PROBE = "position"
ORDERS = ("AB", "BA")
#: Exclusion reasons that mean "a verdict was recorded but is not usable" (an unusable verdict).
FAILED_REASONS = ("unparseable", "out of scale", "missing label")
OPTION_VALUES = {"missing_mirror": ("exclude", "consistent"), "both_unparseable": ("exclude", "agree")}
CLASSES = ("consistent", "primacy", "recency")

#: Per-item statistics of the paired mode (sums over an item's pairs), resampled together.
_S = ["classified", "consistent", "primacy", "recency", "pairs", "flips", "first", "second", "ties", "verdicts",
      "correct", "acc_n", "rep_share", "rep_units"]
_I = {name: i for i, name in enumerate(_S)}


# ---------------------------------------------------------------------------------------------- data access
def _rep_key(values: Any) -> list[str]:
    """Repeat values as comparable strings ('' for none): 1, 1.0 and "1" are the same repeat."""
    out = []
    for v in np.asarray(values, dtype=object):
        c = canonical_label(v)
        out.append("" if c is None else c)
    return out


def _col(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A column as an object array (all None when the frame lacks it)."""
    if name in frame:
        return frame[name].to_numpy(dtype=object)
    return np.full(len(frame), None, dtype=object)


def _check_options(options: Mapping[str, Any]) -> dict[str, str]:
    out = {"missing_mirror": "exclude", "both_unparseable": "exclude"}
    for key, val in dict(options or {}).items():
        if key not in OPTION_VALUES:
            raise ConfigError(f"position probe: unknown option {key!r}; known options: "
                                   f"{', '.join(OPTION_VALUES)} (probes.position in the config).")
        if val not in OPTION_VALUES[key]:
            raise ConfigError(f"position probe: option {key} must be one of {list(OPTION_VALUES[key])}; "
                                   f"got {val!r} (probes.position.{key} in the config).")
        out[key] = str(val)
    return out


@dataclass
class _Slots:
    """One entry per recorded (item, repeat, order) of a judge: item and repeat codes, order (0 = AB, 1 = BA),
    whether the verdict is usable, and its shown code (NaN when unusable)."""

    item: np.ndarray
    rep: np.ndarray
    order: np.ndarray
    ok: np.ndarray
    shown: np.ndarray
    no_order: int


class _Codes:
    """Integer codes for item ids and repeat values shared by every judge of a table."""

    def __init__(self, table: Any) -> None:
        d = table.data
        self.judge_rows = d[d["rater_kind"] == "judge"]
        ex = table.excluded
        if ex is not None and len(ex):
            gold = set(table.reference.index.astype(str))
            # unusable verdicts, and rows set aside for a missing order (counted as rows_without_order)
            ex = ex[ex["reason"].isin(FAILED_REASONS + ("missing order",))]
            ex = ex[ex["item_id"].astype(str).isin(gold)]
        else:
            ex = pd.DataFrame(columns=["item_id", "rater", "order", "repeat", "reason"])
        self.failed = ex
        ids = np.concatenate([d["item_id"].astype(str).to_numpy(dtype=object),
                              ex["item_id"].astype(str).to_numpy(dtype=object)])
        self.items = pd.Index(sorted(set(ids.tolist())))
        reps = _rep_key(_col(self.judge_rows, "repeat")) + _rep_key(_col(ex, "repeat"))
        self.reps = sorted(set(reps)) or [""]
        self.n_rep = len(self.reps)
        self._rep_ix = {r: i for i, r in enumerate(self.reps)}
        self.ref = table.reference.reindex(self.items).to_numpy(dtype=float)
        self._j = self.judge_rows.groupby("rater", sort=False).indices
        self._x = ex.groupby("rater", sort=False).indices if len(ex) else {}

    def item_codes(self, ids: Any) -> np.ndarray:
        return self.items.get_indexer(pd.Index(np.asarray(ids, dtype=object).astype(str)))

    def rep_codes(self, values: Any) -> np.ndarray:
        return np.array([self._rep_ix[r] for r in _rep_key(values)], dtype=np.int64)

    def slots(self, judge: str) -> _Slots:
        r = self.judge_rows.iloc[self._j.get(judge, np.zeros(0, dtype=np.int64))]
        order = r["order"].to_numpy(dtype=object)
        shown = pd.to_numeric(r["shown"], errors="coerce").to_numpy(dtype=float)
        has = np.isin(order, ORDERS) & ~np.isnan(shown)
        no_order = int((~has).sum())
        x = self.failed.iloc[self._x.get(judge, np.zeros(0, dtype=np.int64))]
        xorder = _col(x, "order")
        xhas = np.isin(xorder, ORDERS) & np.isin(_col(x, "reason"), FAILED_REASONS)
        no_order += int((~xhas).sum())
        item = np.concatenate([self.item_codes(r["item_id"].to_numpy()[has]),
                               self.item_codes(x["item_id"].to_numpy()[xhas])])
        rep = np.concatenate([self.rep_codes(_col(r, "repeat")[has]), self.rep_codes(_col(x, "repeat")[xhas])])
        ordc = np.concatenate([(order[has] == "BA"), (xorder[xhas] == "BA")]).astype(np.int64)
        ok = np.concatenate([np.ones(int(has.sum()), bool), np.zeros(int(xhas.sum()), bool)])
        sh = np.concatenate([shown[has], np.full(int(xhas.sum()), np.nan)])
        # one slot per (item, repeat, order); a usable verdict wins over an unusable one (alignment already
        # removed duplicates, so this only guards against odd inputs)
        key = (item * self.n_rep + rep) * 2 + ordc
        _, first = np.unique(key, return_index=True)
        return _Slots(item[first], rep[first], ordc[first], ok[first], sh[first], no_order)


def _per_item(n_items: int, item: np.ndarray, columns: dict[str, np.ndarray]) -> np.ndarray:
    """Sum each column per item code: an (n_items, len(columns)) matrix."""
    out = np.zeros((n_items, len(columns)))
    for j, v in enumerate(columns.values()):
        out[:, j] = np.bincount(item, weights=np.asarray(v, dtype=float), minlength=n_items)
    return out


def _repetition(s: _Slots, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Units (item, order) with ≥ 2 usable verdicts: (item code, share of the modal verdict) per unit."""
    ok = s.ok
    if not ok.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    unit = s.item[ok] * 2 + s.order[ok]
    key = unit * k + s.shown[ok].astype(np.int64)
    ukey, cnt = np.unique(key, return_counts=True)
    u = ukey // k
    starts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]])
    mx = np.maximum.reduceat(cnt, starts)
    sm = np.add.reduceat(cnt, starts)
    keep = sm >= 2
    return (u[starts][keep] // 2).astype(np.int64), (mx[keep] / sm[keep]).astype(float)


def _sign_test(diff: np.ndarray) -> float:
    """Exact two-sided sign test of per-item differences (zeros left out); NaN when all are zero."""
    diff = np.asarray(diff, dtype=float)
    pos, neg = int((diff > 0).sum()), int((diff < 0).sum())
    if pos + neg == 0:
        return math.nan
    return float(binomtest(pos, pos + neg, 0.5).pvalue)


# ---------------------------------------------------------------------------------------------- estimates
class _Boot:
    """Per-item statistics of one judge and their item-clustered bootstrap replicates (drawn once, shared by
    every estimate of the judge)."""

    def __init__(self, stats: np.ndarray, names: list[str], n_resamples: int, rng: np.random.Generator,
                 cl: float) -> None:
        self.ix = {c: i for i, c in enumerate(names)}
        self.stats = stats
        self.tot = stats.sum(axis=0)
        self.sums = bootstrap_stats(stats, n_resamples, rng) if len(stats) and n_resamples > 0 else None
        self.cl = cl

    def col(self, name: str) -> np.ndarray:
        return self.stats[:, self.ix[name]]

    def ratio(self, metric: str, num: tuple[tuple[float, str], ...], den: tuple[str, ...], *, n: int,
              wilson: bool = False, note: str = "", undefined: str = "no usable pair") -> Estimate:
        """``Σ w·num / Σ den`` with a Wilson interval (``wilson``: one unit per item, ``num`` a single count)
        or a percentile item-bootstrap interval."""
        nums = [(w, self.ix[c]) for w, c in num]
        dens = [self.ix[c] for c in den]

        def f(s: np.ndarray) -> np.ndarray:
            return sum(w * s[..., j] for w, j in nums) / sum(s[..., j] for j in dens)

        d = float(sum(self.tot[j] for j in dens))
        if d <= 0:
            return estimate(metric, math.nan, n=0, confidence_level=self.cl, method="none",
                            note=_join(f"undefined: {undefined}", note))
        value = float(f(self.tot[None, :])[0])
        if wilson:
            lo, hi = wilson_interval(float(self.tot[nums[0][1]]), d, self.cl)
            method = "wilson"
        elif self.sums is not None:
            lo, hi, _ = percentile_interval(evaluate_replicates(f, self.sums), self.cl)
            method = "bootstrap-cluster"
        else:
            lo, hi, method = math.nan, math.nan, "none"
        return estimate(metric, value, lo, hi, n=n, confidence_level=self.cl, method=method, note=note)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _unit_note(n_units: int, n_items: int, what: str = "pairs") -> str:
    return "" if n_units == n_items else f"{n_units} {what} in {n_items} items; items resampled"


def _paired(judge: str, s: _Slots, codes: _Codes, k: int, opts: dict[str, str], cl: float, n_resamples: int,
            rng: np.random.Generator, ref_name: str) -> tuple[list[dict[str, Any]], dict[str, Any], pd.DataFrame]:
    n_items = len(codes.items)
    pk = s.item * codes.n_rep + s.rep
    uk, inv = np.unique(pk, return_inverse=True)
    n = len(uk)
    has = np.zeros((n, 2), bool)
    ok = np.zeros((n, 2), bool)
    sh = np.full((n, 2), np.nan)
    has[inv, s.order] = True
    ok[inv, s.order] = s.ok
    sh[inv, s.order] = s.shown
    item = (uk // codes.n_rep).astype(np.int64)

    both_rec = has[:, 0] & has[:, 1]
    u = both_rec & ok[:, 0] & ok[:, 1]
    one_bad = both_rec & (ok[:, 0] ^ ok[:, 1])
    both_bad = both_rec & ~ok[:, 0] & ~ok[:, 1]
    lone = ~both_rec
    lone_ok = lone & (ok[:, 0] | ok[:, 1])
    s1, s2 = sh[:, 0], sh[:, 1]
    tot = s1 + s2
    cons = u & (tot == k - 1)
    pri = u & (tot < k - 1)
    rec = u & (tot > k - 1)
    conv = np.zeros(n, bool)
    if opts["missing_mirror"] == "consistent":
        conv |= lone_ok
    if opts["both_unparseable"] == "agree":
        conv |= both_bad
    # item frame: the AB run as shown, the BA run mapped back (derived here from the shown codes)
    v1, v2 = s1, (k - 1) - s2
    g = codes.ref[item]
    acc_ok = u & ~np.isnan(g)

    def vote(v: np.ndarray) -> np.ndarray:
        # JudgeBench: +1 for the gold label, -1 for the opposite decisive label, 0 otherwise
        return np.where(v == g, 1, np.where(v == (k - 1) - g, -1, 0))

    correct = acc_ok & ((vote(v1) + vote(v2)) > 0)
    flips = u & (v1 != v2)
    contradictory = u & (np.abs(v1 - v2) == k - 1)
    is_tie = (lambda x: x == 1) if k == 3 else (lambda x: np.zeros(x.shape, bool))
    cols = {
        "classified": u | conv, "consistent": cons | conv, "primacy": pri, "recency": rec, "pairs": u,
        "flips": flips, "first": u * ((s1 == 0).astype(int) + (s2 == 0).astype(int)),
        "second": u * ((s1 == k - 1).astype(int) + (s2 == k - 1).astype(int)),
        "ties": u * (is_tie(s1).astype(int) + is_tie(s2).astype(int)), "verdicts": 2 * u.astype(int),
        "correct": correct, "acc_n": acc_ok,
    }
    mat = _per_item(n_items, item, cols)
    r_item, r_share = _repetition(s, k)
    rep = np.zeros((n_items, 2))
    if len(r_item):
        rep[:, 0] = np.bincount(r_item, weights=r_share, minlength=n_items)
        rep[:, 1] = np.bincount(r_item, minlength=n_items)
    mat = np.hstack([mat, rep])
    keep = (mat[:, _I["classified"]] > 0) | (mat[:, _I["pairs"]] > 0) | (mat[:, _I["rep_units"]] > 0)
    boot = _Boot(mat[keep], _S, n_resamples, rng, cl)
    t = dict(zip(_S, boot.tot))
    per = {c: boot.col(c) for c in _S}

    def items_with(c: str) -> int:
        return int((per[c] > 0).sum())

    def one_per_item(c: str) -> bool:
        return bool((per[c] <= 1).all())

    n_cls, n_pairs, n_acc = int(t["classified"]), int(t["pairs"]), int(t["acc_n"])
    left = int(lone.sum() + one_bad.sum() + both_bad.sum() - conv.sum())
    cls_note = _join(_unit_note(n_cls, items_with("classified")),
                     f"{int(conv.sum())} pair(s) counted consistent by convention (missing_mirror="
                     f"{opts['missing_mirror']}, both_unparseable={opts['both_unparseable']})" if conv.any() else "",
                     f"{left} pair(s) with a missing mirror or an unusable verdict left out" if left else "")
    pair_note = _join(_unit_note(n_pairs, items_with("pairs")),
                      f"{int((~u).sum())} pair(s) without two usable verdicts left out" if (~u).any() else "")
    rows: list[dict[str, Any]] = []

    one_cls = one_per_item("classified")
    n_c = n_cls if one_cls else items_with("classified")
    pc = boot.ratio("position_consistency", ((1.0, "consistent"),), ("classified",), wilson=one_cls, n=n_c,
                    note=cls_note)
    rows.append(probe_row(PROBE, judge, pc))
    pf = boot.ratio("preference_fairness", ((1.0, "recency"), (-1.0, "primacy")), ("classified",), n=n_c,
                    note=cls_note)
    rows.append(probe_row(PROBE, judge, pf, p_value=_sign_test(per["recency"] - per["primacy"])))
    n_p = items_with("pairs")
    fp = boot.ratio("first_position_rate", ((1.0, "first"),), ("first", "second"), n=n_p,
                    note=_join(pair_note, f"{int(t['ties'])} tie verdict(s) left out" if t["ties"] else "",
                               "sign test over items" if n_p else ""),
                    undefined="no decisive verdict in a usable pair")
    rows.append(probe_row(PROBE, judge, fp, p_value=_sign_test(per["first"] - per["second"])))
    one_pair = one_per_item("pairs")
    fr = boot.ratio("flip_rate", ((1.0, "flips"),), ("pairs",), wilson=one_pair,
                    n=n_pairs if one_pair else n_p, note=pair_note)
    rows.append(probe_row(PROBE, judge, fr))
    if k == 3:
        rows.append(probe_row(PROBE, judge, boot.ratio("tie_rate", ((1.0, "ties"),), ("verdicts",), n=n_p,
                                                       note=pair_note)))
    if n_acc > 0:
        one_acc = one_per_item("acc_n")
        acc_note = _join(
            _unit_note(n_acc, items_with("acc_n")),
            f"JudgeBench rule; {int((flips & acc_ok).sum())} of {n_acc} pairs inconsistent "
            f"({int((contradictory & acc_ok).sum())} contradictory: A in one order, B in the other)",
            f"{n_pairs - n_acc} usable pair(s) without a reference label left out" if n_pairs > n_acc else "",
            f"{int((~u).sum())} pair(s) without two usable verdicts left out" if (~u).any() else "")
        ba = boot.ratio("both_order_accuracy", ((1.0, "correct"),), ("acc_n",), wilson=one_acc,
                        n=n_acc if one_acc else items_with("acc_n"), note=acc_note)
        rows.append(probe_row(PROBE, judge, ba, reference=ref_name))
    if t["rep_units"] > 0:
        rs = boot.ratio("repetition_stability", ((1.0, "rep_share"),), ("rep_units",), n=items_with("rep_units"),
                        note=f"{int(t['rep_units'])} (item, order) units with ≥ 2 usable verdicts")
        rows.append(probe_row(PROBE, judge, rs))

    counts = {
        "items": int(len(np.unique(item))), "pairs_recorded": int(both_rec.sum()), "classified": n_cls,
        "consistent": int(t["consistent"]), "primacy": int(t["primacy"]), "recency": int(t["recency"]),
        "consistent_by_convention": int(conv.sum()), "missing_mirror": int(lone.sum()),
        "missing_mirror_usable": int(lone_ok.sum()), "unparseable_pairs": int((one_bad | both_bad).sum()),
        "one_unparseable": int(one_bad.sum()), "both_unparseable": int(both_bad.sum()), "usable_pairs": n_pairs,
        "flips": int(t["flips"]),
        "decisive_flips": int((u & (((s1 == 0) & (s2 == 0)) | ((s1 == k - 1) & (s2 == k - 1)))).sum()),
        "first_slot_verdicts": int(t["first"]), "second_slot_verdicts": int(t["second"]),
        "tie_verdicts": int(t["ties"]), "both_order_n": n_acc, "both_order_correct": int(t["correct"]),
        "inconsistent": int((flips & acc_ok).sum()) if n_acc else int(flips.sum()),
        "contradictory": int((contradictory & acc_ok).sum()) if n_acc else int(contradictory.sum()),
        "repeated_units": int(t["rep_units"]),
    }
    classes = pd.DataFrame({"judge": judge, "cls": list(CLASSES),
                            "count": [counts["consistent"], counts["primacy"], counts["recency"]]})
    return rows, counts, classes


def _shown_matrix(n_items: int, item: np.ndarray, shown: np.ndarray, k: int) -> np.ndarray:
    """Per item: first, second, tie and all verdicts in the shown frame."""
    return _per_item(n_items, item, {"first": shown == 0, "second": shown == k - 1,
                                     "ties": (shown == 1) & (k == 3), "n": ~np.isnan(shown)})


def _one_order(judge: str, s: _Slots, human: np.ndarray, codes: _Codes, k: int, cl: float, n_resamples: int,
               rng: np.random.Generator) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    n_items = len(codes.items)
    okm = s.ok
    j = _shown_matrix(n_items, s.item[okm], s.shown[okm], k)
    jd = j[:, 0] + j[:, 1]
    hd = human[:, 0] + human[:, 1]
    both = ((jd > 0) & (hd > 0)).astype(float)
    r_item, r_share = _repetition(s, k)
    rep = np.zeros((n_items, 2))
    if len(r_item):
        rep[:, 0] = np.bincount(r_item, weights=r_share, minlength=n_items)
        rep[:, 1] = np.bincount(r_item, minlength=n_items)
    names = ["first", "second", "ties", "n", "pj_first", "pj_dec", "ph_first", "ph_dec", "rep_share", "rep_units"]
    mat = np.column_stack([j, j[:, 0] * both, jd * both, human[:, 0] * both, hd * both, rep])
    keep = (j[:, 3] > 0) | (rep[:, 1] > 0)
    boot = _Boot(mat[keep], names, n_resamples, rng, cl)
    per = {c: boot.col(c) for c in names}
    t = dict(zip(names, boot.tot))
    rows: list[dict[str, Any]] = []
    n_j = int(((per["first"] + per["second"]) > 0).sum())
    ties_note = f"{int(t['ties'])} tie verdict(s) left out" if t["ties"] else ""
    one_each = bool(((per["first"] + per["second"]) <= 1).all())
    fp = boot.ratio("first_position_rate", ((1.0, "first"),), ("first", "second"), wilson=one_each, n=n_j,
                    note=_join("one recorded order per item", ties_note, "sign test over items"),
                    undefined="no decisive verdict")
    rows.append(probe_row(PROBE, judge, fp, p_value=_sign_test(per["first"] - per["second"])))
    n_both = int((per["pj_dec"] > 0).sum())
    if n_both:
        ix = boot.ix

        def f(m: np.ndarray) -> np.ndarray:
            return m[..., ix["pj_first"]] / m[..., ix["pj_dec"]] - m[..., ix["ph_first"]] / m[..., ix["ph_dec"]]

        val = float(f(boot.tot[None, :])[0])
        if boot.sums is not None:
            lo, hi, _ = percentile_interval(evaluate_replicates(f, boot.sums), cl)
            method = "bootstrap-cluster"
        else:
            lo, hi, method = math.nan, math.nan, "none"
        sel = per["pj_dec"] > 0
        diff = per["pj_first"][sel] / per["pj_dec"][sel] - per["ph_first"][sel] / per["ph_dec"][sel]
        e = estimate("first_position_excess", val, lo, hi, n=n_both, confidence_level=cl, method=method,
                     note=f"judge minus humans on the {n_both} items where both gave a decisive verdict; paired "
                          "item bootstrap; sign test over items")
        rows.append(probe_row(PROBE, judge, e, reference="humans (shown order)", p_value=_sign_test(diff)))
    if k == 3 and t["n"] > 0:
        rows.append(probe_row(PROBE, judge, boot.ratio(
            "tie_rate", ((1.0, "ties"),), ("n",), wilson=bool((per["n"] <= 1).all()), n=int((per["n"] > 0).sum()),
            note="one recorded order per item")))
    if t["rep_units"] > 0:
        rows.append(probe_row(PROBE, judge, boot.ratio(
            "repetition_stability", ((1.0, "rep_share"),), ("rep_units",), n=int((per["rep_units"] > 0).sum()),
            note=f"{int(t['rep_units'])} (item, order) units with ≥ 2 usable verdicts")))
    counts = {"items": int(keep.sum()), "human_paired_items": n_both, "first_slot_verdicts": int(t["first"]),
              "second_slot_verdicts": int(t["second"]), "tie_verdicts": int(t["ties"]),
              "unusable_verdicts": int((~s.ok).sum()), "repeated_units": int(t["rep_units"])}
    return rows, counts


# ---------------------------------------------------------------------------------------------- the probe
def position_probe(table: Any, *, options: Mapping[str, Any] | None = None, confidence_level: float = 0.95,
                   n_resamples: int = 1000, rng: Any = None) -> ProbeResult:
    """Position bias of pairwise judges: consistency, fairness, first-position rate, flips, ties, both-order
    accuracy and repetition stability (the module docstring defines every estimate and test).

    Parameters
    ----------
    table : AlignedTable
        A pairwise table whose judge rows carry the shown order (``order`` "AB"/"BA" and ``shown``).
    options : dict
        ``missing_mirror`` ("exclude" | "consistent") and ``both_unparseable`` ("exclude" | "agree"): the two
        published counting conventions, off by default.
    confidence_level : float
    n_resamples : int
        Bootstrap replicates (items resampled with all their pairs and repeats); 0 gives no bootstrap interval.
    rng : numpy Generator, int or None
        Seed or generator for the bootstrap.

    Returns
    -------
    ProbeResult
        ``rows``: position_consistency, preference_fairness, first_position_rate, flip_rate, tie_rate (3-level
        scales), both_order_accuracy (where a reference label exists), repetition_stability (where repeated);
        in the one-order case first_position_rate, first_position_excess, tie_rate and a humans'
        first_position_rate row. ``counts`` per judge (``mode`` "paired" or "one-order"),
        ``frames["classes"]`` (judge, cls, count) and ``frames["verdicts"]`` (judge, slot, count).

    Raises
    ------
    ProbeUnavailable
        The scale is not pairwise, or no judge saw an item in a recorded order and the humans' order is not
        recorded either.
    ConfigError
        An unknown option or option value.

    References
    ----------
    Shi et al. (2024), arXiv:2406.07791; Tan et al. (2025), JudgeBench; McNemar (1947).

    Examples
    --------
    >>> import pandas as pd
    >>> from metajudge.align import align
    >>> from metajudge.scales import Scale
    >>> gold = pd.DataFrame({"item_id": ["1", "2"], "rater": "h", "label": ["A", "B"]})
    >>> judge = pd.DataFrame({"item_id": ["1", "1", "2", "2"], "label": ["A", "B", "A", "A"],
    ...                       "order": ["AB", "BA", "AB", "BA"]})
    >>> t = align(gold, {"j": judge}, Scale("pairwise"), order_frame={"j": "shown"})
    >>> res = position_probe(t, options={}, n_resamples=0, rng=0)
    >>> res.counts["j"]["consistent"], res.counts["j"]["primacy"], res.counts["j"]["recency"]
    (1, 1, 0)
    >>> {r["metric"]: r["estimate"] for r in res.rows}["position_consistency"]
    0.5
    """
    gen = as_generator(rng)
    opts = _check_options(options or {})
    scale = table.scale
    if scale.kind != "pairwise":
        raise ProbeUnavailable(f"position probe needs a pairwise scale (scale.kind: pairwise); this table's "
                               f"scale is {scale.kind!r}.")
    k = len(scale.levels or ("A", "tie", "B"))
    data = table.data
    if "order" not in data or "shown" not in data or not data["order"].isin(ORDERS).any():
        raise ProbeUnavailable("position probe: no presentation order: set judges[i].columns.order (each pair "
                               "judged in both orders), or gold.columns.order for a one-order comparison with "
                               "the humans.")
    codes = _Codes(table)
    n_items = len(codes.items)
    h = data[(data["rater_kind"] == "human") & data["order"].isin(ORDERS) & data["shown"].notna()]
    human = (_shown_matrix(n_items, codes.item_codes(h["item_id"].to_numpy()),
                           pd.to_numeric(h["shown"], errors="coerce").to_numpy(dtype=float), k)
             if len(h) else None)
    ref_name = (f"{table.aggregate}(humans)" if len(table.humans) > 1
                else (table.humans[0] if table.humans else "gold"))

    res = ProbeResult(probe=PROBE)
    classes: list[pd.DataFrame] = []
    verdicts: list[dict[str, Any]] = []
    for judge in table.judges:
        s = codes.slots(judge)
        pk = s.item * codes.n_rep + s.rep
        paired = bool(len(pk)) and bool(np.intersect1d(pk[s.order == 0], pk[s.order == 1]).size)
        if paired:
            rows, counts, cls = _paired(judge, s, codes, k, opts, confidence_level, n_resamples, gen, ref_name)
            classes.append(cls)
            counts["mode"] = "paired"
        elif s.ok.any() and human is not None:
            rows, counts = _one_order(judge, s, human, codes, k, confidence_level, n_resamples, gen)
            counts["mode"] = "one-order"
        else:
            why = "no item was judged in both orders" if len(pk) else "no verdict has a recorded order"
            res.skipped.append(f"position probe, judge '{judge}': {why}, and the gold set records no human "
                               "presentation order; judge each pair in both orders (judges[i].columns.order), "
                               "or set gold.columns.order for a one-order comparison.")
            continue
        counts["rows_without_order"] = s.no_order
        res.rows += rows
        res.counts[judge] = counts
        for slot, key in (("first", "first_slot_verdicts"), ("second", "second_slot_verdicts"),
                          ("tie", "tie_verdicts")):
            if slot != "tie" or k == 3:
                verdicts.append({"judge": judge, "slot": slot, "count": int(counts[key])})
    if not res.counts:
        raise ProbeUnavailable("position probe: no presentation order to measure: no judge has an item judged in "
                               "both orders and the gold set records no human order; set judges[i].columns.order "
                               "(and judge each pair in both orders), or gold.columns.order for a one-order "
                               "comparison.")
    if human is not None and any(c["mode"] == "one-order" for c in res.counts.values()):
        hd = human[:, 0] + human[:, 1]
        if hd.sum() > 0:
            one = bool((hd <= 1).all())
            lo, hi = (wilson_interval(float(human[:, 0].sum()), float(hd.sum()), confidence_level) if one
                      else (math.nan, math.nan))
            e = estimate("first_position_rate", human[:, 0].sum() / hd.sum(), lo, hi, n=int((hd > 0).sum()),
                         confidence_level=confidence_level, method="wilson" if one else "none",
                         note=f"every human verdict with a recorded order ({len(table.humans)} annotator(s)); "
                              "sign test over items")
            res.rows.append(probe_row(PROBE, "humans", e, rater_kind="human",
                                      p_value=_sign_test(human[:, 0] - human[:, 1])))
    res.frames["classes"] = (pd.concat(classes, ignore_index=True) if classes
                             else pd.DataFrame({"judge": [], "cls": [], "count": []}))
    res.frames["verdicts"] = pd.DataFrame(verdicts, columns=["judge", "slot", "count"])
    res.description = _describe(res.counts, opts, k)
    return res


def _describe(counts: dict[str, dict[str, Any]], opts: dict[str, str], k: int) -> str:
    paired = [c for c in counts.values() if c["mode"] == "paired"]
    one = [c for c in counts.values() if c["mode"] == "one-order"]
    parts = []
    if paired:
        cls = sum(c["classified"] for c in paired)
        mm = sum(c["missing_mirror"] for c in paired)
        up = sum(c["unparseable_pairs"] for c in paired)
        rep = sum(c["repeated_units"] for c in paired)
        parts.append(
            f"Position bias of {len(paired)} judge(s) that saw each pair in both orders: {cls} pair(s) classified "
            "as consistent, primacy or recency (Shi et al. 2024), giving position consistency and preference "
            "fairness; the first-position rate among decisive verdicts (sign test over items, not over "
            f"verdicts), the flip rate{', the tie rate' if k == 3 else ''} and both-order accuracy by the "
            f"JudgeBench rule. {mm} run(s) without their mirror and {up} pair(s) with an unusable verdict were "
            f"counted (missing_mirror: {opts['missing_mirror']}, both_unparseable: {opts['both_unparseable']})"
            + (f"; repetition stability over {rep} repeated (item, order) unit(s)" if rep else "") + ".")
    if one:
        n = sum(c["items"] for c in one)
        parts.append(f"{len(one)} judge(s) saw each item in one recorded order ({n} judge-item units in all): "
                     "their first-position rate is compared with the humans' on the same items.")
    parts.append("Intervals resample items, with all their pairs and repeats.")
    return " ".join(parts)
