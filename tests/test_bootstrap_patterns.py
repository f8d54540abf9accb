"""compress_patterns (the pattern pooling under every bootstrap) against ``np.unique(axis=0)``: the same
patterns and counts up to order, an order that does not depend on the item order, and a forced hash collision
that must fall back to the exact sort."""

from __future__ import annotations

import numpy as np
import pytest

from metajudge.metrics import bootstrap as b


def _cases():
    rng = np.random.default_rng(11)
    for trial in range(40):
        n, d = int(rng.integers(256, 5000)), int(rng.integers(1, 40))
        base = rng.integers(0, 3, size=(int(rng.integers(1, 60)), d)).astype(float)
        if trial % 4 == 1:
            base[::2] += 0.5                      # some rows not whole numbers
        if trial % 7 == 2:
            base = rng.normal(size=base.shape)    # continuous sums
        st = base[rng.integers(0, len(base), n)]
        if trial % 5 == 0 and trial % 7 != 2:
            st = st.astype(np.int64)
        if trial % 9 == 3:
            st[::3] *= -0.0                       # negative zeros equal zeros
        yield trial, st


@pytest.mark.parametrize("trial, stats", list(_cases()))
def test_same_patterns_and_counts_as_numpy_unique(trial, stats):
    p, c = b.compress_patterns(stats)
    p2, c2 = np.unique(stats, axis=0, return_counts=True)
    order = np.lexsort(p.T[::-1])
    assert np.array_equal(p[order], p2) and np.array_equal(c[order], c2) and p.dtype == p2.dtype
    assert c.sum() == len(stats)
    perm = np.random.default_rng(trial).permutation(len(stats))
    q, cq = b.compress_patterns(stats[perm])
    assert np.array_equal(q, p) and np.array_equal(cq, c)  # canonical order: item order does not matter


def test_hash_collision_falls_back_to_the_exact_sort(monkeypatch):
    rng = np.random.default_rng(3)
    stats = rng.integers(0, 3, size=(1000, 6)).astype(float)
    monkeypatch.setattr(b, "_HASH_MULT", np.zeros_like(b._HASH_MULT))  # every row hashes to 0
    p, c = b.compress_patterns(stats)
    p2, c2 = np.unique(stats, axis=0, return_counts=True)
    assert np.array_equal(p, p2) and np.array_equal(c, c2)


def test_small_inputs_use_numpy_unique_order():
    stats = np.array([[2.0, 1.0], [0.0, 5.0], [2.0, 1.0]])
    p, c = b.compress_patterns(stats)
    assert p.tolist() == [[0.0, 5.0], [2.0, 1.0]] and c.tolist() == [1, 2]
