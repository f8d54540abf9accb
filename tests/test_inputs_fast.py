"""The input fast paths against the plain computations (PERFORMANCE.md, "Correctness under speed").

Fast paths under test:

- integer (reference, candidate) arrays to codes without a lookup table (``_inputs._int_lut_codes``);
- whole-number rating matrices to int16 codes in one chunked pass (``_inputs.small_int_codes``);
- per-unit count patterns by integer keys and one bincount, put in ``compress_patterns`` order
  (``multirater._count_patterns``, ``multirater._canonical_patterns``).

The plain computations are the per-label encoding (``_inputs.encode``), per-unit counts and ``compress_patterns`` on
every unit (the code path before the fast paths), and the reference libraries on the raw rows (scikit-learn,
statsmodels, ``krippendorff``). Points must agree to 1e-12 and intervals with the same seed exactly; edge cases
(NaN, out-of-range, non-integer, negative values, levels other than 0..K-1, string labels) must never make the
fast path give another result or another error. No timings here.
"""

from __future__ import annotations

import warnings

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats import inter_rater as smir

import metajudge as mj
from metajudge.errors import MetricInputError
from metajudge.metrics import TABLE_METRICS, _inputs
from metajudge.metrics import multirater as mr
from metajudge.metrics.bootstrap import (as_generator, compress_patterns, evaluate_replicates, percentile_interval,
                                         resample_sums)

TOL = 1e-12
B = 200
SEED = 7
ORDINAL = [name for name, spec in TABLE_METRICS.items() if not spec.binary]


# ================================================================================= integer pair codes
def correlated(rng, n, values):
    values = np.asarray(values)
    k = len(values)
    truth = rng.integers(0, k, n)
    a = np.clip(truth + rng.integers(-1, 2, n) * (rng.random(n) < 0.4), 0, k - 1)
    b = np.clip(truth + rng.integers(-1, 2, n) * (rng.random(n) < 0.4), 0, k - 1)
    return values[a], values[b]


PAIR_CASES = {
    # name: (values used by the data, declared levels or None)
    "0..4": ([0, 1, 2, 3, 4], [0, 1, 2, 3, 4]),
    "0..4 inferred": ([0, 1, 2, 3, 4], None),
    "1..5": ([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]),
    "negative": ([-2, -1, 0, 1, 2], [-2, -1, 0, 1, 2]),
    "negative inferred": ([-2, -1, 0, 1, 2], None),
    "reversed": ([0, 1, 2, 3, 4], [4, 3, 2, 1, 0]),
    "unused levels": ([1, 2, 3], [0, 1, 2, 3, 4, 5]),
    "gaps": ([0, 2, 4, 6], [0, 2, 4, 6]),
    "gaps inferred": ([0, 3, 7], None),
    "unordered": ([0, 5, 10], [10, 0, 5]),
    "string levels": ([1, 2, 3], ["1", "2", "3"]),
    "float levels": ([1, 2, 3], [1.0, 2.0, 3.0]),
}


def plain_pair(ref, cand, levels):
    """Codes by a dictionary of canonical labels: the obvious computation."""
    if levels is None:
        lv = sorted(set(ref.tolist()) | set(cand.tolist()))
        names = [str(v) for v in lv]
    else:
        names = [mj.scales.canonical_label(v) for v in levels]
    index = {name: i for i, name in enumerate(names)}
    code = lambda a: np.array([index[str(int(v))] for v in a], dtype=np.int64)  # noqa: E731
    return code(ref), code(cand), names


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8", "uint64"])
@pytest.mark.parametrize("case", list(PAIR_CASES))
def test_integer_pair_codes_equal_plain(case, dtype):
    values, levels = PAIR_CASES[case]
    if np.dtype(dtype).kind == "u" and min(values) < 0:
        pytest.skip("negative values in an unsigned array")
    rng = np.random.default_rng(len(case))
    ref, cand = correlated(rng, 3000, values)
    ref, cand = ref.astype(dtype), cand.astype(dtype)
    ref0, cand0 = ref.copy(), cand.copy()
    rc, cc, info, cidx, dropped = _inputs.pair_codes(ref, cand, levels=levels, need_order=True, what="t")
    pr, pc, names = plain_pair(ref, cand, levels)
    assert rc.dtype == np.int64 and cc.dtype == np.int64
    np.testing.assert_array_equal(rc, pr)
    np.testing.assert_array_equal(cc, pc)
    assert info.levels == names and dropped == 0 and cidx is None
    assert info.inferred == (levels is None)
    # the inputs are untouched, and codes that share their memory cannot be written through
    np.testing.assert_array_equal(ref, ref0)
    np.testing.assert_array_equal(cand, cand0)
    for codes, a in ((rc, ref), (cc, cand)):
        if np.shares_memory(codes, a):
            assert not codes.flags.writeable


@pytest.mark.parametrize("case", ["0..4", "1..5", "negative", "reversed", "unused levels", "gaps inferred"])
def test_table_estimates_integer_input_equals_float_input(case):
    # float input takes the plain per-label encoding; integer input the fast codes: same numbers, same CIs
    values, levels = PAIR_CASES[case]
    rng = np.random.default_rng(11)
    ref, cand = correlated(rng, 5000, values)
    need_levels = levels if levels is not None else None
    fast = mj.table_estimates(ref, cand, ORDINAL, levels=need_levels, n_resamples=B, rng=SEED)
    plain = mj.table_estimates(ref.astype(float), cand.astype(float), ORDINAL, levels=need_levels,
                               n_resamples=B, rng=SEED)
    for name in ORDINAL:
        f, p = fast[name], plain[name]
        assert (f.estimate, f.ci_low, f.ci_high) == pytest.approx((p.estimate, p.ci_low, p.ci_high), abs=TOL,
                                                                   nan_ok=True), name
        assert (f.n, f.method, f.note) == (p.n, p.method, p.note), name
    labels = list(levels) if levels is not None else sorted(set(ref.tolist()) | set(cand.tolist()))
    if all(isinstance(v, (int, np.integer)) for v in labels):
        sk = cohen_kappa_score(ref, cand, labels=labels)
        assert fast["cohen_kappa"].estimate == pytest.approx(sk, abs=TOL)


def test_table_estimates_big_integer_input_vs_sklearn():
    rng = np.random.default_rng(3)
    ref, cand = correlated(rng, 200_000, [0, 1, 2, 3, 4])
    t = mj.table_estimates(ref, cand, ["cohen_kappa", "cohen_kappa_quadratic"], levels=[0, 1, 2, 3, 4],
                           n_resamples=0)
    assert t["cohen_kappa"].estimate == pytest.approx(cohen_kappa_score(ref, cand), abs=TOL)
    assert t["cohen_kappa_quadratic"].estimate == pytest.approx(
        cohen_kappa_score(ref, cand, weights="quadratic"), abs=TOL)


@pytest.mark.parametrize("bad", [5, -1, 100, 2])
def test_integer_pair_codes_reject_labels_outside_levels(bad):
    levels = [0, 1, 3, 4]  # 2 sits in a gap of the declared levels
    ref = np.array([0, 1, 3, 4, 1, bad], dtype=np.int64)
    cand = np.array([0, 1, 3, 4, 1, 0], dtype=np.int64)
    with pytest.raises(MetricInputError, match="not among the declared levels") as info:
        _inputs.pair_codes(ref, cand, levels=levels, need_order=True, what="t")
    assert str(bad) in str(info.value)
    with pytest.raises(MetricInputError, match="not among the declared levels"):
        mj.cohen_kappa(ref.astype(float), cand, levels=levels)


def test_bool_pairs_equal_integer_pairs():
    r = np.array([True, False, True, True])
    c = np.array([True, False, False, True])
    a = mj.cohen_kappa(r, c, n_resamples=0).estimate
    b = mj.cohen_kappa(r.astype(int), c.astype(int), n_resamples=0).estimate
    assert a == pytest.approx(b, abs=TOL)


# ================================================================================= rating-matrix codes
def ratings(seed, n, m, values, missing=0.1, dtype=float):
    rng = np.random.default_rng(seed)
    values = np.asarray(values)
    k = len(values)
    truth = rng.integers(0, k, n)
    idx = np.clip(truth[:, None] + rng.choice([-1, 0, 0, 0, 1], size=(n, m)), 0, k - 1)
    x = values[idx].astype(dtype)
    if missing:
        x[rng.random((n, m)) < missing] = np.nan
    return x


def plain_digits(x, levels, need_order=False):
    info = _inputs.encode([np.asarray(x).reshape(-1)], levels=levels, need_order=need_order, what="t")
    c = info.codes[0].reshape(np.shape(x))
    return np.where(np.isnan(c), info.k, c).astype(np.int64), info


MATRIX_CASES = {
    "0..4": (lambda: ratings(0, 3000, 5, range(5)), [0, 1, 2, 3, 4]),
    "0..4 inferred": (lambda: ratings(1, 3000, 5, range(5)), None),
    "1..5": (lambda: ratings(2, 2000, 4, [1, 2, 3, 4, 5], 0.2), [1, 2, 3, 4, 5]),
    "negative inferred": (lambda: ratings(3, 2000, 4, [-3, -2, -1, 0]), None),
    "negative": (lambda: ratings(3, 2000, 4, [-3, -2, -1, 0]), [-3, -2, -1, 0]),
    "reversed": (lambda: ratings(4, 2000, 3, range(5)), [4, 3, 2, 1, 0]),
    "unused levels": (lambda: ratings(5, 2000, 3, [2, 3, 4]), list(range(8))),
    "gaps declared": (lambda: ratings(6, 2000, 3, [0, 2, 4, 6]), [6, 4, 2, 0, 1]),
    "gaps inferred": (lambda: ratings(7, 2000, 3, [0, 3, 7]), None),
    "string levels": (lambda: ratings(8, 500, 3, [1, 2, 3]), ["1", "2", "3"]),
    "minus zero": (lambda: ratings(9, 300, 3, [-0.0, 1.0, 2.0]), [0, 1, 2]),
    "int matrix": (lambda: ratings(10, 2000, 4, range(4), missing=0, dtype=np.int64), None),
    "int8 matrix declared": (lambda: ratings(11, 2000, 4, [1, 2, 3], missing=0, dtype=np.int8), [3, 2, 1, 0]),
    "small n": (lambda: ratings(12, 60, 4, range(3), 0.3), None),
    "one column": (lambda: ratings(13, 400, 1, range(3)), None),
    "wide": (lambda: ratings(14, 1500, 14, range(3), 0.2), None),
    "many levels": (lambda: ratings(15, 1500, 3, range(40), 0.1), None),
    "very many levels": (lambda: ratings(16, 600, 4, range(70), 0.1), None),  # keys sorted, not counted
    "huge key spaces": (lambda: ratings(17, 400, 12, range(100), 0.1), None),
    "many missing": (lambda: ratings(18, 1000, 3, range(4), 0.6), None),
}


@pytest.mark.parametrize("case", list(MATRIX_CASES))
def test_small_int_codes_equal_encode(case):
    make, levels = MATRIX_CASES[case]
    x = make()
    fast = _inputs.small_int_codes(x, levels, "t")
    assert fast is not None, case
    codes, info = fast
    pd_, pinfo = plain_digits(x, levels)
    assert codes.dtype == np.int16 and codes.shape == x.shape
    np.testing.assert_array_equal(codes, pd_)
    assert (info.levels, info.inferred, info.numeric) == (pinfo.levels, pinfo.inferred, pinfo.numeric)


NOT_FAST = {
    "non-integer": lambda: np.array([[0.0, 0.5], [1.0, np.nan], [2.0, 1.0]]),
    "infinite": lambda: np.array([[0.0, np.inf], [1.0, np.nan], [2.0, 1.0]]),
    "huge": lambda: np.array([[0.0, 1e9], [1.0, np.nan], [2.0, 1.0]]),
    "beyond int16": lambda: np.array([[0.0, 40000.0], [1.0, 2.0]]),
    "all missing": lambda: np.full((4, 3), np.nan),
    "strings": lambda: np.array([["a", "b"], ["b", None], ["a", "a"]], dtype=object),
    "bool": lambda: np.array([[True, False], [True, True], [False, False]]),
    "tiny fraction": lambda: np.array([[0.0, 1e-300], [1.0, 1.0], [2.0, 1.0]]),
}


@pytest.mark.parametrize("case", list(NOT_FAST))
def test_small_int_codes_leaves_other_data_to_encode(case):
    x = NOT_FAST[case]()
    assert _inputs.small_int_codes(x, None, "t") is None
    assert _inputs.small_int_codes(x, [0, 1, 2], "t") is None


@pytest.mark.parametrize("levels, bad", [([0, 1, 2], 3.0), ([0, 1, 2], -1.0), ([0, 2, 4], 1.0), ([0, 1, 2], 1.5),
                                         ([0, 1, 2], np.inf), ([2, 1, 0], 7.0)])
def test_out_of_level_values_raise_the_plain_error(levels, bad):
    l0, l1, l2 = (float(v) for v in levels)
    x = np.array([[l0, l1, np.nan], [l2, bad, l1], [l0, l0, l1]] * 100)
    assert _inputs.small_int_codes(x, levels, "t") is None
    with pytest.raises(MetricInputError) as plain:
        plain_digits(x, levels)
    expected = str(plain.value).split(": ", 1)[1]
    for fn in (lambda: mr.fleiss_kappa(x, levels=levels, n_resamples=0),
               lambda: mr.krippendorff_alpha(x, level="nominal", levels=levels, n_resamples=0),
               lambda: mr.krippendorff_alpha(x, level="ordinal", levels=levels, n_resamples=0)):
        with pytest.raises(MetricInputError) as got:
            fn()
        assert str(got.value).split(": ", 1)[1] == expected


def test_non_integer_levels_take_the_plain_path():
    x = ratings(25, 400, 3, [0.5, 1.5, 2.5])
    levels = [0.5, 1.5, 2.5]
    assert _inputs.small_int_codes(x, levels, "t") is None
    check_equal(mr.fleiss_kappa(x, levels=levels, n_resamples=B, rng=SEED), plain_fleiss(x, levels))
    check_equal(mr.krippendorff_alpha(x, level="ratio", levels=levels, n_resamples=B, rng=SEED),
                plain_alpha(x, "ratio", levels))


def test_bad_levels_raise_the_plain_error():
    x = ratings(0, 50, 3, range(3))
    for levels in ([0, 1, 1], [0, None, 2]):
        assert _inputs.small_int_codes(x, levels, "t") is None
        with pytest.raises(MetricInputError, match="missing or duplicate"):
            mr.fleiss_kappa(x, levels=levels, n_resamples=0)


# ================================================================================= count patterns
def unit_count_rows(digits, k):
    n, m = digits.shape
    counts = np.zeros((n, k), dtype=np.int64)
    for j in range(m):
        d = digits[:, j]
        ok = d < k
        np.add.at(counts, (np.flatnonzero(ok), d[ok]), 1)
    return counts


@pytest.mark.parametrize("n, m, k, missing", [(1000, 5, 5, 0.1), (50, 3, 2, 0.3), (2000, 14, 3, 0.2),
                                              (1500, 3, 40, 0.1), (1500, 4, 70, 0.1), (300, 12, 100, 0.1),
                                              (200, 1, 4, 0.5), (100, 6, 1, 0.0), (0, 3, 4, 0.0),
                                              (500, 30, 4, 0.2)])
def test_count_patterns_equal_unique_of_unit_counts(n, m, k, missing):
    rng = np.random.default_rng(n + m + k)
    digits = rng.integers(0, k, (n, m))
    digits[rng.random((n, m)) < missing] = k
    u, w = mr._count_patterns(digits.astype(np.int16), k)
    ref_u, ref_w = np.unique(unit_count_rows(digits, k), axis=0, return_counts=True)
    order = np.lexsort(u.T[::-1]) if len(u) else np.zeros(0, dtype=int)
    np.testing.assert_array_equal(u[order], ref_u.reshape(-1, k))
    np.testing.assert_array_equal(w[order], ref_w)
    assert u.dtype == np.int64 and w.dtype == np.int64


@pytest.mark.parametrize("n_units", [1, 100, 255, 256, 257, 5000])
@pytest.mark.parametrize("kind", ["int", "float"])
def test_canonical_patterns_equal_compress_patterns_of_all_units(n_units, kind):
    rng = np.random.default_rng(n_units)
    k = 4
    p = min(n_units, 30)
    rows = np.unique(rng.integers(0, 4, (p * 3, k)), axis=0)[:p]
    w = np.ones(len(rows), dtype=np.int64)
    w += rng.multinomial(n_units - len(rows), np.full(len(rows), 1 / len(rows))) if n_units > len(rows) else 0
    if kind == "float":  # Fleiss-like stats: a non-integer column first
        rows = np.column_stack([rows[:, 0] / 3.0, np.ones(len(rows)), rows]).astype(float)
    perm = rng.permutation(len(rows))
    rows, w = rows[perm], w[perm]
    got_p, got_c = mr._canonical_patterns(rows, w)
    exp_p, exp_c = compress_patterns(np.repeat(rows, w, axis=0))
    np.testing.assert_array_equal(got_p, exp_p)
    np.testing.assert_array_equal(got_c, exp_c)


def test_canonical_patterns_single_pattern():
    rows = np.array([[2, 1, 0]], dtype=np.int64)
    for n in (1, 255, 256, 10_000):
        got = mr._canonical_patterns(rows, np.array([n]))
        exp = compress_patterns(np.repeat(rows, n, axis=0))
        np.testing.assert_array_equal(got[0], exp[0])
        np.testing.assert_array_equal(got[1], exp[1])


# ================================================================================= Fleiss κ and α end to end
def plain_alpha(x, level, levels):
    """Krippendorff's α the way the module computed it before the fast paths (codes per label, counts per unit,
    compress_patterns over all units): point, interval, n."""
    info = _inputs.encode([np.asarray(x).reshape(-1)], levels=levels, need_order=level == "ordinal", what="t")
    codes = info.codes[0].reshape(np.shape(x))
    k = max(info.k, 1)
    values = info.level_values() if info.numeric or level in ("nominal", "ordinal") else np.arange(k, dtype=float)
    counts = mr.unit_counts(codes, k)
    patterns, mult = compress_patterns(counts[counts.sum(axis=1) >= 2])
    if len(mult) == 0:
        return np.nan, np.nan, np.nan, 0
    coinc = mr._pattern_coincidences(patterns)
    point = float(evaluate_replicates(lambda o: mr.alpha_from_coincidence(o, level, values),
                                      (coinc * mult[:, None, None]).sum(axis=0)))
    sums = resample_sums(coinc.reshape(len(mult), -1), mult, B, as_generator(SEED))
    reps = evaluate_replicates(lambda s: mr.alpha_from_coincidence(s.reshape(-1, k, k), level, values), sums)
    lo, hi, _ = percentile_interval(reps, 0.95)
    return point, lo, hi, int(mult.sum())


def plain_fleiss(x, levels):
    info = _inputs.encode([np.asarray(x).reshape(-1)], levels=levels, need_order=False, what="t")
    codes = info.codes[0].reshape(np.shape(x))
    k = max(info.k, 1)
    counts = mr.unit_counts(codes, k)
    m = counts.sum(axis=1)
    counts, m = counts[m >= 2], m[m >= 2].astype(float)
    if len(m) == 0:
        return np.nan, np.nan, np.nan, 0
    pu = (counts * (counts - 1)).sum(axis=1) / (m * (m - 1))
    stats = np.column_stack([pu, np.ones(len(m)), m, counts]).astype(float)
    fn = lambda s: mr._fleiss_from_sums(s, k)  # noqa: E731
    point = float(evaluate_replicates(fn, stats.sum(axis=0)))
    patterns, mult = compress_patterns(stats)
    lo, hi, _ = percentile_interval(evaluate_replicates(fn, resample_sums(patterns, mult, B, as_generator(SEED))),
                                    0.95)
    return point, lo, hi, len(m)


def raw_fleiss(x):
    """Fleiss' κ by a loop over the raw rows (per-item counts of the labels present)."""
    rows = [[v for v in row if not (isinstance(v, float) and np.isnan(v)) and v is not None] for row in np.asarray(x)]
    rows = [r for r in rows if len(r) >= 2]
    labels = sorted({v for r in rows for v in r}, key=str)
    pu, tot, n_k = [], 0, dict.fromkeys(labels, 0)
    for r in rows:
        m = len(r)
        c = {v: r.count(v) for v in set(r)}
        pu.append(sum(n * (n - 1) for n in c.values()) / (m * (m - 1)))
        tot += m
        for v, n in c.items():
            n_k[v] += n
    pe = sum((n / tot) ** 2 for n in n_k.values())
    return (np.mean(pu) - pe) / (1 - pe)


def check_equal(e, plain):
    point, lo, hi, n = plain
    assert e.estimate == pytest.approx(point, abs=TOL, nan_ok=True)
    assert (e.ci_low, e.ci_high) == pytest.approx((lo, hi), abs=TOL, nan_ok=True)
    assert e.n == n


@pytest.mark.parametrize("case", list(MATRIX_CASES))
def test_fleiss_and_alpha_equal_plain_path(case):
    make, levels = MATRIX_CASES[case]
    x = make()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_equal(mr.fleiss_kappa(x, levels=levels, n_resamples=B, rng=SEED), plain_fleiss(x, levels))
        for level in ("nominal", "ordinal", "interval"):
            if level != "nominal" and levels is not None and isinstance(levels[0], str):
                continue
            check_equal(mr.krippendorff_alpha(x, level=level, levels=levels, n_resamples=B, rng=SEED),
                        plain_alpha(x, level, levels))


@pytest.mark.parametrize("case", ["0..4", "0..4 inferred", "1..5", "negative", "reversed", "gaps inferred",
                                  "int matrix", "wide", "many levels", "many missing", "minus zero"])
def test_fleiss_and_alpha_vs_reference_libraries(case):
    make, levels = MATRIX_CASES[case]
    x = make().astype(float)
    fk = mr.fleiss_kappa(x, levels=levels, n_resamples=0).estimate
    assert fk == pytest.approx(raw_fleiss(x), abs=TOL)
    if not np.isnan(x).any():
        sm = smir.fleiss_kappa(smir.aggregate_raters(x.astype(int))[0], method="fleiss")
        assert fk == pytest.approx(sm, abs=TOL)
    for level in ("nominal", "ordinal", "interval"):
        domain = None
        if levels is not None and level == "ordinal":
            domain = [float(v) for v in levels]
        elif level != "interval":
            domain = sorted(set(x[~np.isnan(x)].tolist()) | set(levels or []))
        ref = krippendorff.alpha(reliability_data=x.T, level_of_measurement=level, value_domain=domain)
        a = mr.krippendorff_alpha(x, level=level, levels=levels, n_resamples=0).estimate
        assert a == pytest.approx(ref, abs=TOL), level


def test_forcing_the_plain_encoding_changes_nothing(monkeypatch):
    cases = [MATRIX_CASES[c] for c in ("0..4", "negative", "reversed", "gaps inferred", "wide", "small n")]
    fast = [(mr.fleiss_kappa(mk(), levels=lv, n_resamples=B, rng=SEED),
             mr.krippendorff_alpha(mk(), level="ordinal", levels=lv, n_resamples=B, rng=SEED)) for mk, lv in cases]
    monkeypatch.setattr(mr, "small_int_codes", lambda *a, **k: None)
    plain = [(mr.fleiss_kappa(mk(), levels=lv, n_resamples=B, rng=SEED),
              mr.krippendorff_alpha(mk(), level="ordinal", levels=lv, n_resamples=B, rng=SEED)) for mk, lv in cases]
    assert fast == plain


def test_string_labels_and_dataframes():
    x = ratings(21, 800, 4, range(3), 0.15)
    lab = np.full(x.shape, None, dtype=object)
    ok = ~np.isnan(x)
    lab[ok] = np.array(["no", "maybe", "yes"], dtype=object)[x[ok].astype(int)]
    scale = ["no", "maybe", "yes"]
    for fn in (lambda r, lv: mr.fleiss_kappa(r, levels=lv, n_resamples=B, rng=SEED),
               lambda r, lv: mr.krippendorff_alpha(r, level="ordinal", levels=lv, n_resamples=B, rng=SEED)):
        a, b = fn(x, [0, 1, 2]), fn(lab, scale)
        assert (a.estimate, a.ci_low, a.ci_high) == pytest.approx((b.estimate, b.ci_low, b.ci_high), abs=TOL)
        assert a.n == b.n
        df = pd.DataFrame(x, columns=list("abcd"))  # a DataFrame's values come back column-major
        c = fn(df, [0, 1, 2])
        assert (a.estimate, a.ci_low, a.ci_high, a.n, a.note) == (c.estimate, c.ci_low, c.ci_high, c.n, c.note)


def test_non_integer_ratings_take_the_plain_path():
    x = ratings(22, 600, 4, [0.0, 0.5, 1.0, 1.5, 2.0], 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_equal(mr.fleiss_kappa(x, n_resamples=B, rng=SEED), plain_fleiss(x, None))
        check_equal(mr.krippendorff_alpha(x, level="interval", n_resamples=B, rng=SEED),
                    plain_alpha(x, "interval", None))
    ref = krippendorff.alpha(reliability_data=x.T, level_of_measurement="interval")
    assert mr.krippendorff_alpha(x, level="interval", n_resamples=0).estimate == pytest.approx(ref, abs=TOL)


def test_many_distinct_integers_interval_and_ratio():
    # > 256 distinct whole numbers: interval α takes the moment sums, ratio α refuses, as before
    rng = np.random.default_rng(23)
    truth = rng.integers(0, 3000, 150)
    x = (truth[:, None] + rng.integers(-5, 6, (150, 3))).astype(float)
    x[rng.random(x.shape) < 0.1] = np.nan
    assert len(np.unique(x[~np.isnan(x)])) > mr.MAX_CATEGORICAL_VALUES
    assert _inputs.small_int_codes(x, None, "t")[1].k > mr.MAX_CATEGORICAL_VALUES
    ref = krippendorff.alpha(reliability_data=x.T, level_of_measurement="interval")
    assert mr.krippendorff_alpha(x, level="interval", n_resamples=0).estimate == pytest.approx(ref, abs=1e-10)
    with pytest.raises(MetricInputError, match="ratio"):
        mr.krippendorff_alpha(x, level="ratio", n_resamples=0)


def test_undefined_cases_match_the_plain_path():
    one = ratings(24, 300, 1, range(3))  # one rater: no unit is pairable
    const = np.ones((300, 3))             # one category only
    for x in (one, const):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = mr.fleiss_kappa(x, n_resamples=B, rng=SEED)
            a = mr.krippendorff_alpha(x, level="nominal", n_resamples=B, rng=SEED)
            check_equal(f, plain_fleiss(x, None))
            check_equal(a, plain_alpha(x, "nominal", None))
        assert np.isnan(f.estimate) and np.isnan(a.estimate)
        assert "undefined" in f.note and "undefined" in a.note
