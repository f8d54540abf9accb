"""Length (and style) probe (METRICS.md §5 "Length").

Pairwise tasks
--------------
For every judge, on the items where the two responses differ in the feature (length by default):

``prefer_longer_rate``
    Among the judge's *decisive* verdicts (A or B, item frame) the share that picks the longer response.
    Every judge row counts (both orders, all repeats), so the rate is a ratio of sums over items
    ``Σ_i a_i / Σ_i m_i`` (``a_i`` longer-picking rows of item i, ``m_i`` decisive rows). The same rate is
    computed from the human rows on the **same items** (a row with ``judge="humans"``, ``rater_kind="human"``
    and ``reference=<judge>``). The item set is the items with differing lengths and a usable verdict from
    both sides (a tie included, contributing 0/0): it must not depend on whether a side was decisive, since
    selecting items on the judge's decisiveness shifts the humans' rate on them (a bias found by the
    calibration tests). The two rates are paired over that set.
``prefer_longer_excess``
    judge rate − human rate. The CI is a paired item bootstrap (the same resampled items for both rates); the
    p-value is a two-sided Wald test with the item-clustered (delta-method) standard error of the difference
    of the two ratio estimators. The p-value of ``prefer_longer_rate`` tests the rate against 0.5 the same way.
``length_coef``, ``length_odds_ratio``
    Logistic GLM (statsmodels, Binomial/logit) over the judge's decisive rows::

        logit P(judge prefers A) = b0 + b1 · Δ + b2 · h,   Δ = log f_A − log f_B,

    ``h`` = +1 when the human reference prefers A, −1 for B, 0 for a tie (items without a reference are left
    out and counted). Items with equal lengths enter (Δ = 0). Standard errors are cluster-robust by item
    (statsmodels ``cov_type="cluster"``), so both orders and repeats of one item are not independent
    evidence. ``length_coef`` = b1 (> 0: the judge prefers the longer response beyond what the human label
    explains) with its Wald CI and p-value; ``length_odds_ratio`` = exp(b1): the odds ratio of preferring A per
    unit of Δ, i.e. for an e-fold (×2.72) length ratio.
``length_controlled_win_rate``
    In the manner of length-controlled AlpacaEval (Dubois et al. 2024): the GLM's prediction with the length
    term set to zero, averaged over the fitted rows with the human label kept as observed::

        LCWR = (1/N) Σ_rows expit(b0 + b2 · h_i).

    It is the rate at which the judge would prefer response A if the two responses had equal length. At the
    maximum-likelihood fit the same average *with* the length term equals the raw rate at which the judge
    prefers A on those rows, reported as ``win_rate_a``; the difference is what length buys A. The CI is an
    item bootstrap that refits the GLM in every replicate (vectorised Newton–Raphson with item multiplicities
    as frequency weights); replicates that do not converge (separation) are left out and counted in the note.

Pointwise tasks
---------------
OLS of the judge score (each judge row) on ``log f`` with the human reference score as a covariate,
cluster-robust by item: ``length_coef`` = score points per e-fold length beyond the human score. A row
``judge="humans"`` gives the humans' own slope (OLS of the reference on ``log f``, HC1) for context.

Features
--------
``options.columns`` (one column for pointwise, two ``[col_a, col_b]`` for pairwise, e.g. markdown counts),
else the given ``length_a``/``length_b`` columns, else lengths computed from ``text_a``/``text_b``:
whitespace tokens (``feature: tokens``, the default) or characters (``feature: chars``). Feature columns
other than the item attributes must travel through alignment as slice columns. ``log`` is used when every
feature value is positive, otherwise ``log(1 + f)`` for every value (stated in the note). ``options.name``
names the feature in the text; for a name other than ``length`` the rows carry ``slice="feature=<name>"``.

Frames
------
``prefer_longer`` (pairwise): rater (judge name or ``"humans"``), bin (centre of a quantile bin of
|Δ|), rate, n (decisive rows). ``length_score`` (pointwise): rater, bin (centre of a quantile bin of the log
feature), score (mean), n.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.special import expit

from ..metrics.bootstrap import item_weights
from ._shared import (interval, item_column, join_notes, paired_ratio_rows, pairwise_codes, quantile_bins,
                      ref_name, score_values)
from .base import ProbeResult, ProbeUnavailable, estimate, numeric, probe_row

PROBE = "length"
#: Replicates × rows per block of the bootstrap refits of the logistic regression (bounds memory).
BLOCK_CELLS = 2_000_000


def _text_feature(s: pd.Series, feature: str) -> pd.Series:
    def f(t: Any) -> float:
        if t is None or (isinstance(t, float) and math.isnan(t)) or t is pd.NA:
            return math.nan
        t = str(t)
        return float(len(t.split()) if feature == "tokens" else len(t))
    return s.map(f).astype(float)


def features(table: Any, options: dict[str, Any], pairwise: bool) -> tuple[pd.DataFrame, str]:
    """Item-indexed frame with ``fa`` (and ``fb`` for pairwise) and a sentence naming the source."""
    feature = options.get("feature", "tokens") or "tokens"
    if feature not in ("tokens", "chars"):
        raise ProbeUnavailable(f"length feature must be 'tokens' or 'chars'; got {feature!r} (probes.length.feature).")
    cols = options.get("columns")
    need = 2 if pairwise else 1
    if cols:
        cols = list(cols)
        if len(cols) != need:
            raise ProbeUnavailable(
                f"probes.length.columns must name {need} column(s) for a {'pairwise' if pairwise else 'pointwise'} "
                f"task ({'[col_a, col_b]' if pairwise else '[col]'}); got {cols}.")
        series = [item_column(table, c) for c in cols]
        missing = [c for c, s in zip(cols, series) if s is None]
        if missing:
            raise ProbeUnavailable(f"feature column(s) {missing} not found in the aligned table: declare them as "
                                   "slice columns (slices:) so they travel with the gold set.")
        source = f"columns {', '.join(cols)}"
    else:
        names = ["length_a", "length_b"][:need]
        series = [item_column(table, c) for c in names]
        source = "given columns " + ", ".join(names)
        if any(s is None for s in series):
            tnames = ["text_a", "text_b"][:need]
            texts = [item_column(table, c) for c in tnames]
            if any(s is None for s in texts):
                which = "length_a/length_b or text_a/text_b" if pairwise else "length_a or text_a (the response)"
                raise ProbeUnavailable(f"no response lengths: set gold.columns.{which} "
                                       "(or probes.length.columns).")
            series = [_text_feature(s, feature) for s in texts]  # type: ignore[arg-type]
            source = f"{'whitespace tokens' if feature == 'tokens' else 'characters'} of " + ", ".join(tnames)
    out = pd.DataFrame({k: pd.to_numeric(s, errors="coerce") for k, s in zip(["fa", "fb"], series)})
    out.index = out.index.astype(str)
    return out.sort_index(), source


def _log(x: np.ndarray, log1p: bool) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log1p(x) if log1p else np.log(x)


# ------------------------------------------------------------------------------------------ logistic fits
def _newton_boot(X: np.ndarray, y: np.ndarray, w: np.ndarray, beta0: np.ndarray,
                 max_iter: int = 50, tol: float = 1e-9) -> np.ndarray:
    """Weighted logistic MLE for every row of weights ``w`` (B, N), started at ``beta0``; NaN where it fails."""
    b_count, p = w.shape[0], X.shape[1]
    beta = np.tile(beta0, (b_count, 1))
    done = np.zeros(b_count, dtype=bool)
    ridge = 1e-10 * np.eye(p)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(max_iter):
            pr = expit(beta @ X.T)
            g = (w * (y - pr)) @ X
            h = np.einsum("bn,ni,nj->bij", w * pr * (1 - pr), X, X) + ridge
            try:
                step = np.linalg.solve(h, g[..., None])[..., 0]
            except np.linalg.LinAlgError:
                step = np.full_like(beta, np.nan)
            step[done] = 0.0
            beta = beta + step
            done |= np.max(np.abs(step), axis=1) < tol
            if done.all():
                break
    bad = ~done | ~np.isfinite(beta).all(axis=1) | (np.abs(beta) > 25).any(axis=1)
    beta[bad] = np.nan
    return beta


def _fit_glm(X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[Any, str]:
    """statsmodels logistic GLM with item-clustered covariance; (result or None, note)."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import (ConvergenceWarning, PerfectSeparationError,
                                                 PerfectSeparationWarning)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = sm.GLM(y, X, family=sm.families.Binomial()).fit(
                cov_type="cluster", cov_kwds={"groups": groups})
        except (PerfectSeparationError, np.linalg.LinAlgError, ValueError) as exc:
            return None, f"the logistic regression could not be fitted ({exc})"
    sep = any(issubclass(c.category, (PerfectSeparationWarning, ConvergenceWarning)) for c in caught)
    params = np.asarray(res.params)
    if sep or not np.isfinite(params).all() or np.abs(params).max() > 25 or not np.isfinite(res.bse).all():
        return None, ("the logistic regression did not converge: the predictors separate the judge's choices "
                      "(e.g. the judge always follows the human label)")
    return res, ""


# ------------------------------------------------------------------------------------------ the probe
def length_probe(table: Any, *, options: dict[str, Any], confidence_level: float, n_resamples: int,
                 rng: np.random.Generator) -> ProbeResult:
    """Length (or style-feature) bias of each judge against the humans (module docstring)."""
    options = dict(options or {})
    name = str(options.get("name") or "length")
    slice_ = "all" if name == "length" else f"feature={name}"
    scale = table.scale
    pairwise = scale.kind == "pairwise"
    feats, source = features(table, options, pairwise)
    res = ProbeResult(probe=PROBE)
    if pairwise:
        _pairwise(table, feats, source, name, slice_, res, confidence_level, n_resamples, rng)
    else:
        _pointwise(table, feats, source, name, slice_, res, confidence_level, n_resamples, rng)
    return res


def _pairwise(table: Any, feats: pd.DataFrame, source: str, name: str, slice_: str, res: ProbeResult,
              cl: float, n_resamples: int, rng: np.random.Generator) -> None:
    code_a, code_b, code_tie = pairwise_codes(table.scale)
    fa, fb = feats["fa"], feats["fb"]
    finite = fa.notna() & fb.notna()
    differ = finite & (fa != fb)
    if not differ.any():
        raise ProbeUnavailable(f"no pair differs in {name} ({source}): nothing to measure.")
    log1p = bool(((fa[finite] <= 0) | (fb[finite] <= 0)).any())
    log_note = f"Δ = log(1+{name}_A) − log(1+{name}_B) (some values are 0)" if log1p else ""
    delta_all = pd.Series(_log(fa.to_numpy(float), log1p) - _log(fb.to_numpy(float), log1p), index=feats.index)
    a_longer = (fa > fb)
    ref = table.reference
    rname = ref_name(table)
    d = table.data
    val = numeric(d["value"])
    decisive = (val == code_a) | (val == code_b)

    usable = ~np.isnan(val)

    def tally(mask: np.ndarray) -> pd.DataFrame:
        """Per item with differing lengths and a usable verdict: longer-picking (sum) and decisive (count)
        rows. Items whose usable verdicts are all ties stay in with 0/0, so the item set does not depend on
        the verdicts (selecting items on a decisive verdict biases the other rater's rate)."""
        rows = pd.DataFrame({"item_id": d["item_id"].to_numpy()[mask], "pick_a": val[mask] == code_a,
                             "dec": decisive[mask]})
        rows = rows[rows["item_id"].isin(differ[differ].index)]
        rows["longer"] = rows["dec"].to_numpy() & (rows["pick_a"].to_numpy()
                                                   == a_longer.reindex(rows["item_id"]).to_numpy())
        return rows.groupby("item_id", sort=True).agg(sum=("longer", "sum"), count=("dec", "sum"))

    human_mask = (d["rater_kind"] == "human").to_numpy()
    human = tally(human_mask & usable)
    # frame: prefer-longer against |Δ|, bins on the items whose lengths differ
    absd = delta_all[differ].abs()
    bin_idx, centres = quantile_bins(absd.to_numpy())
    item_bin = pd.Series(bin_idx, index=absd.index)
    frame_rows: list[dict[str, Any]] = []

    def add_frame(rater: str, mask: np.ndarray) -> None:
        rows = pd.DataFrame({"item_id": d["item_id"].to_numpy()[mask], "pick_a": val[mask] == code_a})
        rows = rows[rows["item_id"].isin(item_bin.index)]
        rows["longer"] = rows["pick_a"].to_numpy() == a_longer.reindex(rows["item_id"]).to_numpy()
        rows["bin"] = item_bin.reindex(rows["item_id"]).to_numpy()
        for b, grp in rows.groupby("bin", sort=True):
            frame_rows.append({"rater": rater, "bin": float(centres[int(b)]), "rate": float(grp["longer"].mean()),
                               "n": int(len(grp))})

    add_frame("humans", human_mask & decisive)
    n_items_total = 0
    for j in table.judges:
        jmask = (d["rater"] == j).to_numpy()
        jt = tally(jmask & usable)
        add_frame(j, jmask & decisive)
        jitems = set(d.loc[jmask, "item_id"])
        counts: dict[str, Any] = {
            "items": len(jitems),
            "missing_length_items": int(len(jitems - set(finite[finite].index))),
            "equal_length_items": int(len(jitems & set((finite & ~differ)[finite & ~differ].index))),
            "tie_rows": int((jmask & (val == code_tie)).sum()) if code_tie is not None else 0,
        }
        common = jt.index.intersection(human.index)
        counts["paired_items"] = len(common)
        counts["items_without_decisive_human"] = int(len(jt.index.difference(human.index[human["count"] > 0])))
        counts["items_without_decisive_judge"] = int(len((jitems & set(differ[differ].index))
                                                         - set(jt.index[jt["count"] > 0])))
        if (len(common) == 0 or jt.loc[common, "count"].sum() == 0
                or human.loc[common, "count"].sum() == 0):
            res.skipped.append(f"{j}: no item with differing {name} has both a decisive judge verdict and a "
                               "decisive human verdict; the prefer-longer rates cannot be paired.")
        else:
            jt_c, h_c = jt.loc[common], human.loc[common]
            counts["decisive_rows"] = int(jt_c["count"].sum())
            res.rows += paired_ratio_rows(
                j, "prefer_longer_rate", "prefer_longer_excess", jt_c["sum"].to_numpy(float),
                jt_c["count"].to_numpy(float), h_c["sum"].to_numpy(float), h_c["count"].to_numpy(float),
                probe=PROBE, reference=rname, confidence_level=cl, n_resamples=n_resamples, rng=rng,
                null_rate=0.5, slice_=slice_, note_rate="p: against 0.5, Wald test, item-clustered SE",
                note_human=f"human rows on the {len(common)} items of judge {j}")
        # ---- GLM: judge prefers A ~ Δ log length + human label
        jr = d.loc[jmask & decisive, ["item_id"]].copy()
        jr["y"] = (val[jmask & decisive] == code_a).astype(float)
        jr["delta"] = delta_all.reindex(jr["item_id"]).to_numpy()
        r = ref.reindex(jr["item_id"]).to_numpy(dtype=float)
        jr["h"] = np.where(r == code_a, 1.0, np.where(r == code_b, -1.0, np.where(np.isnan(r), np.nan, 0.0)))
        no_ref = int(jr.loc[np.isnan(r), "item_id"].nunique())
        jr = jr[np.isfinite(jr["delta"]) & np.isfinite(jr["h"])]
        counts["glm_rows"] = len(jr)
        counts["glm_items"] = int(jr["item_id"].nunique())
        counts["glm_items_without_reference"] = no_ref
        res.counts[j] = counts
        _glm_rows(j, jr, res, rname, slice_, log_note, cl, n_resamples, rng, name)
        n_items_total = max(n_items_total, len(common))
    res.frames["prefer_longer"] = pd.DataFrame(frame_rows, columns=["rater", "bin", "rate", "n"])
    res.description = (
        f"Length probe ({name}: {source}). For each judge, the share of decisive verdicts that pick the response "
        f"with the larger {name}, on the pairs whose {name} differ, beside the humans' share on the same pairs "
        f"(up to {n_items_total} pairs per judge); the excess (judge − humans) has a paired item-bootstrap CI. "
        f"A logistic regression of 'judge prefers A' on the log {name} ratio with the human label as a covariate "
        "(item-clustered standard errors) gives the length coefficient, its odds ratio and the length-controlled "
        "win rate of A (the fitted rate with the length term set to zero)."
    )


def _glm_rows(j: str, jr: pd.DataFrame, res: ProbeResult, rname: str, slice_: str, log_note: str, cl: float,
              n_resamples: int, rng: np.random.Generator, name: str) -> None:
    n_items = int(jr["item_id"].nunique())
    if n_items < 3 or jr["y"].nunique() < 2 or jr["delta"].abs().max() == 0:
        why = ("fewer than 3 items" if n_items < 3 else "the judge always picks the same side"
               if jr["y"].nunique() < 2 else f"no pair differs in {name}")
        res.skipped.append(f"{j}: the length regression cannot be fitted ({why}).")
        return
    cols = ["delta"] + (["h"] if jr["h"].nunique() > 1 else [])
    X = np.column_stack([np.ones(len(jr))] + [jr[c].to_numpy(float) for c in cols])
    y = jr["y"].to_numpy(float)
    items, groups = np.unique(jr["item_id"].to_numpy(), return_inverse=True)
    fit, why = _fit_glm(X, y, groups)
    notes = [log_note] + ([] if "h" in cols else ["the human label is constant on these items: not a covariate"])
    method = "cluster-robust-wald"
    if fit is None:
        res.skipped.append(f"{j}: {why}.")
        for metric in ("length_coef", "length_odds_ratio", "length_controlled_win_rate"):
            res.rows.append(probe_row(PROBE, j, estimate(metric, math.nan, n=n_items, confidence_level=cl,
                                                         method="none", note=why), reference=rname, slice_=slice_))
        return
    z = sps.norm.ppf(0.5 + cl / 2)
    b1, se1 = float(fit.params[1]), float(fit.bse[1])
    p1 = float(fit.pvalues[1])
    note = join_notes(*notes, f"logit P(prefers A) = b0 + b1·Δlog {name}" + (" + b2·human" if "h" in cols else "")
                      + f"; {len(jr)} rows, {n_items} item clusters")
    res.rows.append(probe_row(PROBE, j, estimate("length_coef", b1, b1 - z * se1, b1 + z * se1, n=n_items,
                                                 confidence_level=cl, method=method, note=note),
                              reference=rname, slice_=slice_, p_value=p1))
    res.rows.append(probe_row(PROBE, j, estimate("length_odds_ratio", math.exp(b1), math.exp(b1 - z * se1),
                                                 math.exp(b1 + z * se1), n=n_items, confidence_level=cl,
                                                 method=method, note="exp(length_coef): per e-fold length ratio"),
                              reference=rname, slice_=slice_, p_value=p1))
    # length-controlled win rate: prediction with Δ = 0, averaged over the fitted rows
    X0 = X.copy()
    X0[:, 1] = 0.0
    params = np.asarray(fit.params, dtype=float)
    lc = float(np.mean(expit(X0 @ params)))
    raw = float(y.mean())
    rep_lc = rep_raw = np.zeros(0)
    if n_resamples > 0:
        lcs, raws = [], []
        block = max(1, BLOCK_CELLS // len(y))
        for wi in item_weights(len(items), n_resamples, rng, block=block):
            w = wi[:, groups].astype(float)
            beta = _newton_boot(X, y, w, params)
            with np.errstate(invalid="ignore", divide="ignore"):
                lcs.append(np.sum(w * expit(beta @ X0.T), axis=1) / w.sum(axis=1))
                raws.append((w @ y) / w.sum(axis=1))
        rep_lc, rep_raw = np.concatenate(lcs), np.concatenate(raws)
    lo, hi, nb = interval(rep_lc, cl)
    m = "bootstrap-cluster" if n_resamples > 0 else "none"
    res.rows.append(probe_row(PROBE, j, estimate(
        "length_controlled_win_rate", lc, lo, hi, n=n_items, confidence_level=cl, method=m,
        note=join_notes("mean over fitted rows of expit(b0 + b2·human): P(judge prefers A) at Δ=0", nb)),
        reference=rname, slice_=slice_))
    lo, hi, nb = interval(rep_raw, cl)
    res.rows.append(probe_row(PROBE, j, estimate("win_rate_a", raw, lo, hi, n=n_items, confidence_level=cl, method=m,
                                                 note=join_notes("raw share of decisive judge rows picking A "
                                                                 "(the rows of the length regression)", nb)),
                              reference=rname, slice_=slice_))


def _pointwise(table: Any, feats: pd.DataFrame, source: str, name: str, slice_: str, res: ProbeResult,
               cl: float, n_resamples: int, rng: np.random.Generator) -> None:
    import statsmodels.api as sm

    scale = table.scale
    f = feats["fa"]
    fin = f.notna()
    if not fin.any():
        raise ProbeUnavailable(f"no response has a {name} value ({source}).")
    log1p = bool((f[fin] <= 0).any())
    logf = pd.Series(_log(f.to_numpy(float), log1p), index=feats.index)
    log_note = f"log(1+{name}) (some values are 0)" if log1p else ""
    ref = pd.Series(score_values(scale, table.reference.to_numpy(float)), index=table.reference.index)
    rname = ref_name(table)
    z = sps.norm.ppf(0.5 + cl / 2)
    frame_rows: list[dict[str, Any]] = []
    ok_items = logf[np.isfinite(logf)].index
    bin_idx, centres = quantile_bins(logf[ok_items].to_numpy())
    item_bin = pd.Series(bin_idx, index=ok_items)

    def add_frame(rater: str, it: np.ndarray, score: np.ndarray) -> None:
        df = pd.DataFrame({"item_id": it, "score": score}).dropna()
        df = df[df["item_id"].isin(item_bin.index)]
        df["bin"] = item_bin.reindex(df["item_id"]).to_numpy()
        for b, g in df.groupby("bin", sort=True):
            frame_rows.append({"rater": rater, "bin": float(centres[int(b)]), "score": float(g["score"].mean()),
                               "n": int(len(g))})

    # humans' own slope, for context
    hr = pd.DataFrame({"x": logf, "ref": ref.reindex(logf.index)}).dropna()
    add_frame("humans", hr.index.to_numpy(), hr["ref"].to_numpy())
    if len(hr) >= 3 and hr["x"].nunique() > 1:
        fit = sm.OLS(hr["ref"].to_numpy(), sm.add_constant(hr["x"].to_numpy())).fit(cov_type="HC1")
        b, se = float(fit.params[1]), float(fit.bse[1])
        res.rows.append(probe_row(PROBE, "humans", estimate(
            "length_coef", b, b - z * se, b + z * se, n=len(hr), confidence_level=cl, method="hc1-wald",
            note=join_notes(log_note, f"OLS of the human reference on log {name} (no covariate)")),
            rater_kind="human", reference=rname, slice_=slice_, p_value=float(fit.pvalues[1])))
    for j in table.judges:
        jr = table.rows(j)
        y = score_values(scale, numeric(jr["value"]))
        df = pd.DataFrame({"item_id": jr["item_id"].to_numpy(), "y": y})
        add_frame(j, df["item_id"].to_numpy(), y)
        df["x"] = logf.reindex(df["item_id"]).to_numpy()
        df["ref"] = ref.reindex(df["item_id"]).to_numpy()
        n_items_j = int(df["item_id"].nunique())
        df = df[np.isfinite(df["x"]) & np.isfinite(df["ref"]) & np.isfinite(df["y"])]
        n_items = int(df["item_id"].nunique())
        res.counts[j] = {"items": n_items_j, "regression_items": n_items, "regression_rows": len(df),
                         "items_left_out": n_items_j - n_items}
        if n_items < 3 or df["x"].nunique() < 2:
            res.skipped.append(f"{j}: the length regression needs at least 3 items with a {name}, a human "
                               "reference and more than one distinct value.")
            continue
        cols = ["x"] + (["ref"] if df["ref"].nunique() > 1 else [])
        X = sm.add_constant(df[cols].to_numpy(float), has_constant="add")
        _, groups = np.unique(df["item_id"].to_numpy(), return_inverse=True)
        fit = sm.OLS(df["y"].to_numpy(float), X).fit(cov_type="cluster", cov_kwds={"groups": groups})
        b, se = float(fit.params[1]), float(fit.bse[1])
        res.rows.append(probe_row(PROBE, j, estimate(
            "length_coef", b, b - z * se, b + z * se, n=n_items, confidence_level=cl,
            method="cluster-robust-wald",
            note=join_notes(log_note, f"OLS judge score = b0 + b1·log {name}" + (" + b2·human score"
                            if "ref" in cols else "") + f"; {len(df)} rows, {n_items} item clusters")),
            reference=rname, slice_=slice_, p_value=float(fit.pvalues[1])))
    res.frames["length_score"] = pd.DataFrame(frame_rows, columns=["rater", "bin", "score", "n"])
    res.description = (
        f"Length probe ({name}: {source}), pointwise scores. For each judge, an OLS regression of the judge's "
        f"score on log {name} with the human reference score as a covariate (standard errors clustered by "
        f"item): the length coefficient is the score the judge adds per e-fold {name} beyond what the human "
        "score explains. The humans' own slope (reference on log length) is shown for context."
    )
