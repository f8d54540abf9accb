"""The sharded count-table engines (metajudge.engine): shard tables summed give the numbers of the plain
computation, number for number; the Dask engine on a real LocalCluster (two worker processes) gives exactly
the local engine's results; the CLI runs them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from typer.testing import CliRunner

import metajudge as mj
from metajudge.cli import app
from metajudge.config import config_from_dict
from metajudge.engine import agreement_from_shards, is_sharded, run_sharded, shard_paths
from metajudge.errors import MetajudgeError
from metajudge.scales import Scale

N = 6000
LEVELS = [1, 2, 3, 4, 5]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("shards")
    rng = np.random.default_rng(7)
    h = rng.integers(1, 6, N)
    j = np.clip(h + rng.choice([-1, 0, 0, 1, 1], N), 1, 5)
    (d / "log").mkdir()
    for s in range(4):
        part = slice(s * N // 4, (s + 1) * N // 4)
        pd.DataFrame({"human": h[part].astype(str), "judge": j[part].astype(str)}).to_parquet(
            d / "log" / f"part-{s}.parquet")
    items = [f"i{i:05d}" for i in range(N)]
    h2 = np.clip(h + rng.choice([-1, 0, 1], N), 1, 5)
    pd.DataFrame({"item": items * 2, "rater": ["a"] * N + ["b"] * N,
                  "label": np.concatenate([h, h2])}).to_csv(d / "gold.csv", index=False)
    # judge with two repeats per item, the repeats in different shards (clusters cross shards), plus bad rows
    rep2 = np.clip(j + rng.choice([-1, 0, 1], N), 1, 5)
    log = pd.DataFrame({"item": items + items, "label": np.concatenate([j, rep2]).astype(str),
                        "repeat": ["1"] * N + ["2"] * N})
    log.loc[3, "label"] = "banana"       # out of scale
    log.loc[4, "label"] = None           # missing
    log = pd.concat([log, pd.DataFrame({"item": ["not-in-gold"], "label": ["3"], "repeat": ["1"]})],
                    ignore_index=True)
    (d / "judge").mkdir()
    order = np.random.default_rng(1).permutation(len(log))
    for s, idx in enumerate(np.array_split(order, 5)):
        log.iloc[np.sort(idx)].to_parquet(d / "judge" / f"shard-{s}.parquet")
    log.to_parquet(d / "judge_all.parquet")
    return {"dir": d, "h": h, "j": j, "log": log, "h2": h2}


def _cfg(d, path, **extra):
    return config_from_dict({"scale": {"kind": "ordinal", "levels": LEVELS},
                             "gold": {"path": str(d / "gold.csv"),
                                      "columns": {"item": "item", "rater": "rater", "label": "label"}},
                             "judges": [{"name": "j1", "path": str(path),
                                         "columns": {"item": "item", "label": "label", "repeat": "repeat"}}],
                             "bootstrap": {"n_resamples": 300, "seed": 3}, **extra})


def _cols(df):
    return df[["section", "judge", "metric", "estimate", "ci_low", "ci_high", "n", "method"]].reset_index(drop=True)


def test_joined_shards_equal_table_estimates(data):
    sc = Scale("ordinal", levels=LEVELS)
    r = agreement_from_shards(data["dir"] / "log", reference="human", candidate="judge", scale=sc, n_resamples=400,
                              seed=5)
    assert r.shards == 4 and r.counts["rows"] == N and r.counts["left_out"] == 0
    ref = mj.table_estimates(data["h"], data["j"], list(r.estimates), levels=LEVELS, n_resamples=400, rng=5)
    for m, e in r.estimates.items():
        assert (e.estimate, e.ci_low, e.ci_high, e.n, e.method) == (
            ref[m].estimate, ref[m].ci_low, ref[m].ci_high, ref[m].n, ref[m].method), m
    # and the plain computation on the raw rows
    from sklearn.metrics import cohen_kappa_score

    assert r.estimates["cohen_kappa"].estimate == pytest.approx(cohen_kappa_score(data["h"], data["j"]), abs=1e-12)
    assert r.estimates["cohen_kappa_quadratic"].estimate == pytest.approx(
        cohen_kappa_score(data["h"], data["j"], weights="quadratic"), abs=1e-12)


def test_sharded_run_equals_in_memory_agreement(data):
    d = data["dir"]
    cfg = _cfg(d, d / "judge")
    assert is_sharded(cfg) and not is_sharded(_cfg(d, d / "judge_all.parquet"))
    a = run_sharded(cfg, engine="local")
    b = mj.run(_cfg(d, d / "judge_all.parquet"), probes=[])
    got = _cols(a.results[a.results["section"] == "agreement"])
    want = _cols(b.results[(b.results["section"] == "agreement") & (b.results["slice"] == "all")
                           & (b.results["judge"] == "j1") & (b.results["level"] == "item")
                           & b.results["metric"].isin(got["metric"])])
    pd.testing.assert_frame_equal(got, want)  # same numbers, same intervals: repeats resampled as clusters
    cov = a.coverage.set_index("source").loc["j1"]
    cov_b = b.coverage.set_index("source").loc["j1"]
    for key in ("rows", "out_of_scale", "missing_label", "missing_in_gold", "items", "matched_items",
                "missing_in_judge", "excluded_rows", "unparseable"):
        assert int(cov[key]) == int(cov_b[key]), key
    assert a.confusion["j1"].to_numpy().tolist() == b.confusion["j1"].to_numpy().tolist()


def test_sharded_leniency_rows_match_an_independent_computation(data):
    d = data["dir"]
    a = run_sharded(_cfg(d, d / "judge"), engine="local")
    lr = a.results[a.results["metric"] == "leniency_shift"].iloc[0]
    log = data["log"]
    log = log[log["item"] != "not-in-gold"]
    v = pd.to_numeric(log["label"], errors="coerce")
    jm = v.groupby(log["item"]).mean().dropna()
    # the ordinal reference is the low median of the annotators: of two labels, the lower one
    ref = pd.Series(np.minimum(data["h"], data["h2"]).astype(float), index=[f"i{i:05d}" for i in range(N)])
    common = jm.index.intersection(ref.index)
    diff = (jm[common] - ref[common]).to_numpy()
    assert lr["n"] == len(common)
    assert lr["estimate"] == pytest.approx(diff.mean(), abs=1e-12)
    half = sps.norm.ppf(0.975) * diff.std(ddof=1) / np.sqrt(len(diff))
    assert (lr["ci_low"], lr["ci_high"]) == pytest.approx((diff.mean() - half, diff.mean() + half), abs=1e-12)


def test_shard_path_errors(tmp_path):
    with pytest.raises(MetajudgeError, match="holds no .parquet files"):
        shard_paths(tmp_path)
    with pytest.raises(MetajudgeError, match="no shard matches"):
        shard_paths(tmp_path / "part-*.parquet")


# ------------------------------------------------------------------------------------------------ Dask
@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as lc, distributed.Client(lc) as client:
        yield lc, client


def test_dask_engine_is_identical_to_local(data, cluster):
    lc, client = cluster
    assert len(client.scheduler_info()["workers"]) == 2
    sc = Scale("ordinal", levels=LEVELS)
    kw = dict(reference="human", candidate="judge", scale=sc, n_resamples=300, seed=2)
    loc = agreement_from_shards(data["dir"] / "log", engine="local", **kw)
    dsk = agreement_from_shards(data["dir"] / "log", engine="dask", client=client, **kw)
    assert np.array_equal(loc.table, dsk.table) and loc.counts == dsk.counts
    assert loc.frame().equals(dsk.frame())
    d = data["dir"]
    a = run_sharded(_cfg(d, d / "judge"), engine="local")
    b = run_sharded(_cfg(d, d / "judge"), engine="dask", client=client)
    pd.testing.assert_frame_equal(a.results, b.results)  # agreement, CIs with the same seed, leniency rows
    pd.testing.assert_frame_equal(a.coverage, b.coverage)


def test_cli_report_engine_dask(data, cluster, tmp_path):
    lc, _ = cluster
    d = data["dir"]
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps({
        "scale": {"kind": "ordinal", "levels": LEVELS},
        "gold": {"path": str(d / "gold.csv"), "columns": {"item": "item", "rater": "rater", "label": "label"}},
        "judges": [{"name": "j1", "path": str(d / "judge"),
                    "columns": {"item": "item", "label": "label", "repeat": "repeat"}}],
        "bootstrap": {"n_resamples": 200, "seed": 4}}))
    runner = CliRunner()
    outs = {}
    for eng in ("local", "dask"):
        out = tmp_path / eng
        args = ["report", str(cfg_path), "-o", str(out), "--quiet", "--engine", eng]
        if eng == "dask":
            args += ["--scheduler", lc.scheduler_address]
        r = runner.invoke(app, args)
        assert r.exit_code == 0, r.output
        outs[eng] = json.loads((out / "results.json").read_text())
    assert outs["local"]["results"] == outs["dask"]["results"]
    assert outs["dask"]["provenance"]["engine"] == "dask"
    r = runner.invoke(app, ["report", str(cfg_path), "-o", str(tmp_path / "x"), "--scheduler", "tcp://x:1"])
    assert r.exit_code == 2 and "--engine dask" in r.output


def test_one_row_per_item_equals_in_memory(tmp_path):
    """The sparse shortcut for one usable row per item (patterns = occupied unit cells in hash order, leniency
    from the table) gives the in-memory analysis' agreement rows exactly."""
    rng = np.random.default_rng(11)
    n = 3000
    h = rng.integers(1, 6, n)
    j = np.clip(h + rng.choice([-2, -1, 0, 0, 1], n), 1, 5)
    items = [f"q{i}" for i in range(n)]
    pd.DataFrame({"item": items, "label": h}).to_parquet(tmp_path / "gold.parquet")
    (tmp_path / "j").mkdir()
    for s, idx in enumerate(np.array_split(np.arange(n), 3)):
        pd.DataFrame({"item": [items[i] for i in idx], "label": j[idx]}).to_parquet(tmp_path / "j" / f"{s}.parquet")
    pd.DataFrame({"item": items, "label": j}).to_parquet(tmp_path / "j_all.parquet")

    def cfg(path):
        return config_from_dict({"scale": {"kind": "ordinal", "levels": LEVELS},
                                 "gold": {"path": str(tmp_path / "gold.parquet"),
                                          "columns": {"item": "item", "label": "label", "rater": None}},
                                 "judges": [{"name": "j", "path": str(path),
                                             "columns": {"item": "item", "label": "label"}}],
                                 "bootstrap": {"n_resamples": 250, "seed": 9}})

    a = run_sharded(cfg(tmp_path / "j"), engine="local")
    b = mj.run(cfg(tmp_path / "j_all.parquet"), probes=[])
    got = _cols(a.results[a.results["section"] == "agreement"])
    want = _cols(b.results[(b.results["section"] == "agreement") & (b.results["slice"] == "all")
                           & (b.results["judge"] == "j") & (b.results["level"] == "item")
                           & b.results["metric"].isin(got["metric"])])
    pd.testing.assert_frame_equal(got, want)
    d = (j - h).astype(float)
    lr = a.results[a.results["metric"] == "leniency_shift"].iloc[0]
    assert lr["estimate"] == pytest.approx(d.mean(), abs=1e-12)
    half = sps.norm.ppf(0.975) * d.std(ddof=1) / np.sqrt(n)
    assert lr["ci_high"] - lr["estimate"] == pytest.approx(half, abs=1e-12)


def test_sparse_patterns_equal_dense_compression():
    from metajudge.engine import _JudgeCells
    from metajudge.metrics.bootstrap import compress_patterns

    rng = np.random.default_rng(0)
    for trial in range(20):
        n, k = int(rng.integers(1, 3000)), int(rng.integers(2, 6))
        reps = int(rng.integers(1, 4))
        rows = np.repeat(np.arange(n), reps)
        key = rows * k * k + rng.integers(0, k * k, len(rows))
        uk, c = np.unique(key, return_counts=True)
        single = reps == 1
        jc = _JudgeCells("j", None if single else np.arange(n), None if single else (uk // (k * k)),
                         (uk % (k * k)).astype(np.int64), c.astype(float), k, n_items=n, single=single)
        p1, c1 = jc.patterns()
        p2, c2 = compress_patterns(jc.dense())
        assert np.array_equal(p1, p2) and np.array_equal(c1, c2), trial


@pytest.mark.parametrize("levels, values", [([0, 1, 2, 3, 4], (0, 5)),      # values are the codes
                                            ([0, 1, 2, 3, 4], (-1, 7)),     # some off the scale
                                            ([1, 2, 3, 4, 5], (1, 6)),      # codes = value - 1
                                            ([5, 4, 3, 2, 1], (0, 6))])     # declared in reverse
def test_integer_shard_tables_equal_the_string_path(tmp_path, levels, values):
    from metajudge.engine import joined_shard_table

    rng = np.random.default_rng(len(levels) + values[1])
    n = 700_000  # several blocks of rows
    h = rng.integers(*values, n).astype(np.int8)
    j = rng.integers(*values, n).astype(np.int16)
    pd.DataFrame({"human": h, "judge": j}).to_parquet(tmp_path / "i.parquet")
    pd.DataFrame({"human": h.astype(str), "judge": j.astype(str)}).to_parquet(tmp_path / "s.parquet")
    sc = Scale("ordinal", levels=levels)
    a = joined_shard_table(tmp_path / "i.parquet", reference="human", candidate="judge", scale=sc)
    b = joined_shard_table(tmp_path / "s.parquet", reference="human", candidate="judge", scale=sc)
    assert np.array_equal(a["table"], b["table"]) and a == {**b, "table": a["table"]}
    pos = {v: i for i, v in enumerate(levels)}
    ok = np.isin(h, levels) & np.isin(j, levels)
    want = np.zeros((5, 5), dtype=np.int64)
    np.add.at(want, (np.vectorize(pos.get)(h[ok]), np.vectorize(pos.get)(j[ok])), 1)
    assert np.array_equal(a["table"], want) and a["left_out"] == int((~ok).sum())


# ---------------------------------------------------------------- the engine reads data as the in-memory path does
COV_KEYS = ["rows", "items", "matched_items", "missing_in_gold", "missing_in_judge", "duplicate_rows",
            "unparseable", "out_of_scale", "missing_label", "excluded_rows", "reference_undefined", "fallback_rows"]


def _same_as_in_memory(cfgd):
    a = run_sharded(config_from_dict(cfgd), engine="local")
    b = mj.run(config_from_dict(cfgd), probes=[])
    for j in [x["name"] for x in cfgd["judges"]]:
        got = _cols(a.results[(a.results["section"] == "agreement") & (a.results["judge"] == j)])
        want = _cols(b.results[(b.results["section"] == "agreement") & (b.results["slice"] == "all")
                               & (b.results["judge"] == j) & (b.results["level"] == "item")
                               & b.results["metric"].isin(got["metric"])])
        pd.testing.assert_frame_equal(got, want)
        assert (a.results.loc[a.results["section"] == "agreement", "reference"].iloc[0]
                == b.results.loc[b.results["section"] == "agreement", "reference"].iloc[0])
    ca = a.coverage.set_index("source")[COV_KEYS].astype(int)
    cb = b.coverage.set_index("source").loc[ca.index, COV_KEYS].astype(int)
    pd.testing.assert_frame_equal(ca, cb)


def _scenario(tmp_path, name):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    n = 400
    items = [f"i{i:03d}" for i in range(n)]
    h = rng.integers(1, 6, n)
    j = np.clip(h + rng.integers(-1, 2, n), 1, 5)
    gold = {"path": str(tmp_path / "gold.parquet"), "columns": {"item": "item", "label": "label", "rater": None}}
    judge = {"name": "j", "path": str(tmp_path / "judge.parquet"), "columns": {"item": "item", "label": "label"}}
    scale = {"kind": "ordinal", "levels": LEVELS}
    pd.DataFrame({"item": items, "label": h}).to_parquet(tmp_path / "gold.parquet")
    jdf = pd.DataFrame({"item": items, "label": j.astype(str)})
    if name == "duplicate judge rows":          # kept: the first row of an item
        jdf = pd.concat([jdf, jdf.iloc[:50].assign(label="1")], ignore_index=True)
    elif name == "duplicate gold rows":
        pd.DataFrame({"item": items + items[:40], "rater": ["a"] * n + ["a"] * 40,
                      "label": np.r_[h, np.ones(40, int)]}).to_parquet(tmp_path / "gold.parquet")
        gold["columns"]["rater"] = "rater"
    elif name == "csv ids and missing spellings":  # "007"-style ids stay text; NA / N/A are missing labels
        ids = [f"{i:04d}" for i in range(n)]
        lab = h.astype(object)
        lab[:10] = "NA"
        lab[10:15] = "N/A"
        pd.DataFrame({"item": ids, "label": lab}).to_csv(tmp_path / "gold.csv", index=False)
        gold["path"] = str(tmp_path / "gold.csv")
        jdf = pd.DataFrame({"item": [f" {x} " for x in ids], "label": j.astype(str)})  # blanks around ids
    elif name == "pairwise shown order":
        scale = {"kind": "pairwise"}
        lv = np.array(["A", "tie", "B"])
        g = rng.integers(0, 3, n)
        order = rng.choice(["AB", "BA"], n)
        shown = np.where(order == "BA", 2 - g, g)
        pd.DataFrame({"item": items, "label": lv[g]}).to_parquet(tmp_path / "gold.parquet")
        jdf = pd.DataFrame({"item": items, "label": lv[shown], "order": order})
        judge.update(order_frame="shown", columns={"item": "item", "label": "label", "order": "order"})
    elif name == "extracted verdicts with a fallback":
        text = np.array([f"Rating: {v}" for v in j], dtype=object)
        text[:30] = "I cannot rate this."
        jdf = pd.DataFrame({"item": items, "out": text})
        judge.update(columns={"item": "item", "text": "out"}, extract="rating", unparseable={"fallback": 3})
    elif name == "wide gold with empty cells":
        a1, a2 = h.astype(float), np.clip(h + 1, 1, 5).astype(float)
        a2[:20] = np.nan
        pd.DataFrame({"item": items, "a1": a1, "a2": a2}).to_parquet(tmp_path / "gold.parquet")
        gold = {"path": str(tmp_path / "gold.parquet"), "layout": "wide", "raters": ["a1", "a2"],
                "columns": {"item": "item"}}
    jdf.to_parquet(tmp_path / "judge.parquet")
    return {"scale": scale, "gold": gold, "judges": [judge], "bootstrap": {"n_resamples": 150, "seed": 5}}


@pytest.mark.parametrize("name", ["duplicate judge rows", "duplicate gold rows", "csv ids and missing spellings",
                                  "pairwise shown order", "extracted verdicts with a fallback",
                                  "wide gold with empty cells"])
def test_engine_reads_like_the_in_memory_analysis(tmp_path, name):
    _same_as_in_memory(_scenario(tmp_path, name))


def test_engine_refuses_what_it_cannot_do_like_the_in_memory_path(tmp_path):
    from metajudge.errors import ScaleError

    cfgd = _scenario(tmp_path, "plain")
    cfgd["gold"]["aggregate"] = "mean"
    with pytest.raises(ScaleError, match="mean needs an interval scale"):
        run_sharded(config_from_dict(cfgd), engine="local")
    cfgd = _scenario(tmp_path, "plain")
    cfgd["scale"] = {"kind": "nominal"}
    with pytest.raises(MetajudgeError, match="levels declared"):
        run_sharded(config_from_dict(cfgd), engine="local")
    odd = tmp_path / "proj [v2]"  # a folder name with glob characters is not a glob
    odd.mkdir()
    cfgd = _scenario(odd, "plain")
    assert not is_sharded(config_from_dict(cfgd))
