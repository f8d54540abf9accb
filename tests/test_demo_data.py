"""Tests of the simulated demo data written by :func:`metajudge.demo.simulate_demo`.

They check the files (they exist, load, are byte-reproducible), the planted defects (unparseable outputs,
missing items, a duplicated row, missing mirrors, an HTML injection) and, roughly, the planted behaviour of
each judge, with small self-contained parsers so that they do not depend on the rest of the package.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from metajudge import demo
from metajudge.demo import simulate_demo

RATING = re.compile(r"Rating:\s*([1-5])\s*$")
TAG = re.compile(r"\[\[([ABC])\]\]")
POINTWISE_JUDGES = ("strong-judge", "lenient-judge", "noisy-judge")
PAIRWISE_JUDGES = ("fair-judge", "primacy-judge", "verbose-judge", "basalt-judge")


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    simulate_demo(out, seed=0)
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _rating(text: str) -> float:
    m = RATING.search(text)
    return float(m.group(1)) if m else np.nan


def _tag(text: str) -> str | None:
    tags = set(TAG.findall(text))
    return tags.pop() if len(tags) == 1 else None


def _quadratic_kappa(a: np.ndarray, b: np.ndarray, k: int = 5) -> float:
    table = np.zeros((k, k))
    np.add.at(table, (a.astype(int) - 1, b.astype(int) - 1), 1.0)
    table /= table.sum()
    i, j = np.indices((k, k))
    w = ((i - j) / (k - 1)) ** 2
    expected = np.outer(table.sum(axis=1), table.sum(axis=0))
    return float(1.0 - (w * table).sum() / (w * expected).sum())


def _pointwise_judge(demo_dir: Path, name: str) -> pd.DataFrame:
    df = pd.read_json(demo_dir / "pointwise" / "judges" / f"{name}.jsonl", lines=True, dtype={"item_id": str})
    return df.assign(rating=df["output"].map(_rating))


def _pairwise_judge(demo_dir: Path, name: str) -> pd.DataFrame:
    df = pd.read_json(demo_dir / "pairwise" / "judges" / f"{name}.jsonl", lines=True, dtype={"item_id": str})
    return df.assign(shown=df["judgment"].map(_tag))


# --- files ------------------------------------------------------------------------------------------


def test_returns_config_paths(tmp_path: Path) -> None:
    paths = simulate_demo(tmp_path / "out", seed=3)
    assert set(paths) == {"pointwise", "pairwise"}
    assert paths["pointwise"] == tmp_path / "out" / "pointwise" / "metajudge.yaml"
    assert paths["pairwise"] == tmp_path / "out" / "pairwise" / "metajudge.yaml"
    assert all(p.is_file() for p in paths.values())


def test_expected_files(demo_dir: Path) -> None:
    expected = {
        "pointwise/gold.csv",
        "pointwise/metajudge.yaml",
        *(f"pointwise/judges/{j}.jsonl" for j in POINTWISE_JUDGES),
        "pairwise/gold.jsonl",
        "pairwise/metajudge.yaml",
        *(f"pairwise/judges/{j}.jsonl" for j in PAIRWISE_JUDGES),
    }
    assert set(_files(demo_dir)) == expected


def test_same_seed_byte_identical(tmp_path: Path) -> None:
    simulate_demo(tmp_path / "a", seed=7)
    simulate_demo(tmp_path / "b", seed=7)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a == b
    assert all(b"\r" not in data for data in a.values())


def test_different_seed_differs(tmp_path: Path) -> None:
    simulate_demo(tmp_path / "a", seed=0)
    simulate_demo(tmp_path / "b", seed=1)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    for name in a:
        if not name.endswith(".yaml"):  # configs do not depend on the seed
            assert a[name] != b[name], name


def test_jsonl_keys_sorted(demo_dir: Path) -> None:
    line = (demo_dir / "pairwise" / "gold.jsonl").read_text(encoding="utf-8").splitlines()[0]
    keys = re.findall(r'"(\w+)":', line)
    assert keys == sorted(keys)


# --- configs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["pointwise", "pairwise"])
def test_config_schema(demo_dir: Path, task: str) -> None:
    root = demo_dir / task
    cfg = yaml.safe_load((root / "metajudge.yaml").read_text(encoding="utf-8"))
    base = {"title", "task", "scale", "gold", "judges", "bootstrap", "slices"}
    assert set(cfg) == (base | {"probes"} if task == "pairwise" else base)
    assert cfg["task"] == task
    assert "simulated" in cfg["title"]
    assert cfg["bootstrap"] == {"n_resamples": 1000, "confidence_level": 0.95, "seed": 0}
    assert cfg["slices"] == ["category"]
    assert set(cfg["gold"]) == {"path", "layout", "columns"}
    assert cfg["gold"]["layout"] == "long"
    assert (root / cfg["gold"]["path"]).is_file()
    gold_cols = cfg["gold"]["columns"]
    assert {"item", "rater", "label"} <= set(gold_cols)
    for judge in cfg["judges"]:
        assert (root / judge["path"]).is_file()
        assert not Path(judge["path"]).is_absolute()
    if task == "pointwise":
        assert cfg["scale"] == {"kind": "ordinal", "levels": [1, 2, 3, 4, 5]}
        assert gold_cols == {"item": "item_id", "rater": "annotator", "label": "score", "system": "system"}
        assert [j["name"] for j in cfg["judges"]] == list(POINTWISE_JUDGES)
        for judge in cfg["judges"]:
            assert set(judge) == {"name", "path", "columns", "extract"}
            assert judge["columns"] == {"item": "item_id", "text": "output", "repeat": "sample"}
            assert judge["extract"] == "rating"
    else:
        assert cfg["scale"] == {"kind": "pairwise", "ties": True}
        assert gold_cols == {
            "item": "item_id",
            "rater": "annotator",
            "label": "winner",
            "generator_a": "generator_a",
            "generator_b": "generator_b",
            "length_a": "length_a",
            "length_b": "length_b",
        }
        assert [j["name"] for j in cfg["judges"]] == list(PAIRWISE_JUDGES)
        for judge in cfg["judges"]:
            assert set(judge) == {"name", "path", "columns", "extract", "order_frame"}
            assert judge["columns"] == {"item": "item_id", "text": "judgment", "order": "order"}
            assert judge["extract"] == "mt-bench"
            assert judge["order_frame"] == "shown"
        # self-preference: every judge has a model family; systems map to theirs
        sp = cfg["probes"]["self_preference"]
        assert set(cfg["probes"]) == {"self_preference"}
        assert sp["families"] == demo.PP_FAMILIES
        assert set(sp["families"]) == set(PAIRWISE_JUDGES)
        assert sp["generator_families"] == {s: s.split("-")[0] for s in demo.SYSTEMS}
        assert sp["families"]["basalt-judge"] == "basalt"


@pytest.mark.parametrize("task", ["pointwise", "pairwise"])
def test_config_loads(demo_dir: Path, task: str) -> None:
    from metajudge.config import load_config

    cfg = load_config(demo_dir / task / "metajudge.yaml")
    if task == "pairwise":
        assert cfg.probes.self_preference.families == demo.PP_FAMILIES
        assert cfg.probes.self_preference.generator_families == demo.PP_GENERATOR_FAMILIES


def test_config_columns_exist(demo_dir: Path) -> None:
    gold = pd.read_csv(demo_dir / "pointwise" / "gold.csv")
    cfg = yaml.safe_load((demo_dir / "pointwise" / "metajudge.yaml").read_text(encoding="utf-8"))
    assert set(cfg["gold"]["columns"].values()) | set(cfg["slices"]) <= set(gold.columns)
    gold_p = pd.read_json(demo_dir / "pairwise" / "gold.jsonl", lines=True)
    cfg_p = yaml.safe_load((demo_dir / "pairwise" / "metajudge.yaml").read_text(encoding="utf-8"))
    assert set(cfg_p["gold"]["columns"].values()) | set(cfg_p["slices"]) <= set(gold_p.columns)


# --- pointwise --------------------------------------------------------------------------------------


def test_pointwise_gold(demo_dir: Path) -> None:
    gold = pd.read_csv(demo_dir / "pointwise" / "gold.csv", dtype={"item_id": str})
    assert list(gold.columns) == ["item_id", "annotator", "score", "category", "system"]
    assert gold["item_id"].nunique() == demo.N_ITEMS
    assert gold["item_id"].str.fullmatch(r"pw-\d{4}").all()
    assert set(gold["score"]) <= {1, 2, 3, 4, 5}
    assert set(gold["annotator"]) == set(demo.PW_ANNOTATORS)
    assert set(gold["category"]) == set(demo.CATEGORIES)
    assert set(gold["system"]) == set(demo.SYSTEMS)
    assert (gold.groupby("item_id")["annotator"].nunique() == 3).all()
    assert not gold.duplicated(["item_id", "annotator"]).any()
    # Category and system are item attributes.
    assert (gold.groupby("item_id")[["category", "system"]].nunique() == 1).all().all()


def test_pointwise_human_agreement_moderate(demo_dir: Path) -> None:
    gold = pd.read_csv(demo_dir / "pointwise" / "gold.csv")
    wide = gold.pivot(index="item_id", columns="annotator", values="score")
    kappas = []
    for a, b in itertools.combinations(wide.columns, 2):
        both = wide[[a, b]].dropna().to_numpy()
        kappas.append(_quadratic_kappa(both[:, 0], both[:, 1]))
    assert 0.55 < np.mean(kappas) < 0.8


def test_pointwise_judge_rows_and_defects(demo_dir: Path) -> None:
    items = set(pd.read_csv(demo_dir / "pointwise" / "gold.csv", dtype={"item_id": str})["item_id"])
    strong = _pointwise_judge(demo_dir, "strong-judge")
    lenient = _pointwise_judge(demo_dir, "lenient-judge")
    noisy = _pointwise_judge(demo_dir, "noisy-judge")
    for df in (strong, lenient, noisy):
        assert list(df.columns[:3]) == ["item_id", "output", "sample"]
        assert set(df["item_id"]) <= items
        share_bad = df["rating"].isna().mean()
        assert 0.005 <= share_bad <= 0.03
    # strong judge: every item, three samples each, no duplicates
    assert set(strong["item_id"]) == items
    assert sorted(strong["sample"].unique()) == list(range(demo.PW_STRONG_SAMPLES))
    assert (strong.groupby("item_id").size() == demo.PW_STRONG_SAMPLES).all()
    # noisy judge: three items missing
    assert len(items - set(noisy["item_id"])) == demo.PW_MISSING["noisy-judge"] == 3
    assert not noisy.duplicated(["item_id", "sample"]).any()
    # lenient judge: one exact duplicate row
    assert lenient.duplicated().sum() == 1
    assert lenient.duplicated(["item_id", "sample"]).sum() == 1
    assert set(lenient["item_id"]) == items
    # exactly one output (in strong-judge) holds the HTML injection; it is unparseable, so reports show it
    hits = {name: df["output"].str.contains("<script>", regex=False).sum() for name, df in
            (("strong-judge", strong), ("lenient-judge", lenient), ("noisy-judge", noisy))}
    assert hits == {"strong-judge": 1, "lenient-judge": 0, "noisy-judge": 0}
    injected = strong.loc[strong["output"].str.contains(demo.INJECTION, regex=False)]
    assert injected["rating"].isna().all()


def test_pointwise_planted_behaviour(demo_dir: Path) -> None:
    gold = pd.read_csv(demo_dir / "pointwise" / "gold.csv", dtype={"item_id": str})
    human_item = gold.groupby("item_id")["score"].mean()
    category = gold.groupby("item_id")["category"].first()

    def first_sample(name: str) -> pd.Series:
        df = _pointwise_judge(demo_dir, name).dropna(subset=["rating"])
        return df[df["sample"] == 0].drop_duplicates("item_id").set_index("item_id")["rating"]

    strong, lenient, noisy = (first_sample(j) for j in POINTWISE_JUDGES)
    # Lenient: scores well above the humans', and compressed.
    assert lenient.mean() > human_item.mean() + 0.4
    assert lenient.std() < human_item.std()
    # Strong judge closer to the humans than the noisy judge, and unbiased.
    err = {name: (s - human_item.reindex(s.index)).abs().mean() for name, s in
           (("strong", strong), ("noisy", noisy), ("lenient", lenient))}
    assert err["strong"] < err["noisy"]
    assert err["strong"] < err["lenient"]
    assert abs((strong - human_item.reindex(strong.index)).mean()) < 0.25
    # Strong judge is worse on math than elsewhere.
    dev = (strong - human_item.reindex(strong.index)).abs()
    is_math = category.reindex(dev.index) == "math"
    assert dev[is_math].mean() > dev[~is_math].mean()
    # Strong judge's samples agree with each other often, not always.
    s = _pointwise_judge(demo_dir, "strong-judge").dropna(subset=["rating"])
    spread = s.groupby("item_id")["rating"].nunique()
    assert 0.4 < (spread == 1).mean() < 0.95


# --- pairwise ---------------------------------------------------------------------------------------


def test_pairwise_gold(demo_dir: Path) -> None:
    gold = pd.read_json(demo_dir / "pairwise" / "gold.jsonl", lines=True, dtype={"item_id": str})
    assert set(gold.columns) == {
        "item_id", "annotator", "winner", "category", "generator_a", "generator_b", "length_a", "length_b"
    }
    assert gold["item_id"].nunique() == demo.N_ITEMS
    assert len(gold) == demo.N_ITEMS * len(demo.PP_ANNOTATORS)
    assert set(gold["winner"]) == {"A", "B", "tie"}
    assert (gold["generator_a"] != gold["generator_b"]).all()
    assert set(gold["generator_a"]) | set(gold["generator_b"]) == set(demo.SYSTEMS)
    assert (gold[["length_a", "length_b"]] > 0).all().all()
    assert set(gold["category"]) == set(demo.CATEGORIES)
    # Humans disagree sometimes, but not at random.
    wide = gold.pivot(index="item_id", columns="annotator", values="winner")
    unanimous = (wide.nunique(axis=1) == 1).mean()
    assert 0.3 < unanimous < 0.9
    # Humans slightly prefer the longer answer.
    decisive = gold[gold["winner"] != "tie"]
    longer = np.where(decisive["length_a"] > decisive["length_b"], "A", "B")
    assert 0.5 < (decisive["winner"] == longer).mean() < 0.75


def test_pairwise_both_orders(demo_dir: Path) -> None:
    items = set(pd.read_json(demo_dir / "pairwise" / "gold.jsonl", lines=True, dtype={"item_id": str})["item_id"])
    for name in PAIRWISE_JUDGES:
        df = _pairwise_judge(demo_dir, name)
        assert list(df.columns[:3]) == ["item_id", "judgment", "order"]
        assert set(df["order"]) == {"AB", "BA"}
        assert not df.duplicated(["item_id", "order"]).any()
        assert set(df["item_id"]) == items
        orders = df.groupby("item_id")["order"].agg(frozenset)
        incomplete = orders[orders != frozenset({"AB", "BA"})]
        assert len(incomplete) == demo.PP_MISSING_MIRROR.get(name, 0)
        assert (incomplete == frozenset({"AB"})).all()
        # a few unparseable: no tag, or two conflicting tags
        n_bad = df["shown"].isna().sum()
        assert n_bad == demo.PP_UNPARSEABLE[name]
        assert 0 < n_bad / len(df) < 0.02
    assert demo.PP_MISSING_MIRROR["primacy-judge"] == 3


def test_pairwise_injection(demo_dir: Path) -> None:
    fair = _pairwise_judge(demo_dir, "fair-judge")
    primacy = _pairwise_judge(demo_dir, "primacy-judge")
    hit = fair["judgment"].str.contains(demo.INJECTION, regex=False)
    assert hit.sum() == 1
    assert fair.loc[hit, "shown"].notna().all()
    assert not primacy["judgment"].str.contains("<script>", regex=False).any()


def test_pairwise_planted_behaviour(demo_dir: Path) -> None:
    gold = pd.read_json(demo_dir / "pairwise" / "gold.jsonl", lines=True, dtype={"item_id": str})
    items = gold.drop_duplicates("item_id").set_index("item_id")
    wide = gold.pivot(index="item_id", columns="annotator", values="winner")
    majority = wide.mode(axis=1)[0].where(wide.nunique(axis=1) < 3, "tie")
    back = {"AB": {"A": "A", "B": "B", "C": "tie"}, "BA": {"A": "B", "B": "A", "C": "tie"}}

    stats = {}
    for name in PAIRWISE_JUDGES:
        df = _pairwise_judge(demo_dir, name).dropna(subset=["shown"])
        decisive = df[df["shown"] != "C"]
        first_rate = (decisive["shown"] == "A").mean()
        df = df.assign(item=[back[o][v] for o, v in zip(df["order"], df["shown"])])
        wide_j = df.pivot(index="item_id", columns="order", values="item").dropna()
        consistency = (wide_j["AB"] == wide_j["BA"]).mean()
        ab = df[df["order"] == "AB"].set_index("item_id")["item"]
        accuracy = (ab == majority.reindex(ab.index)).mean()
        dec = df[df["item"] != "tie"]
        longer = np.where(items.loc[dec["item_id"], "length_a"] > items.loc[dec["item_id"], "length_b"], "A", "B")
        prefer_longer = (dec["item"].to_numpy() == longer).mean()
        stats[name] = {"first": first_rate, "pc": consistency, "acc": accuracy, "longer": prefer_longer}

    fair, primacy = stats["fair-judge"], stats["primacy-judge"]
    verbose, basalt = stats["verbose-judge"], stats["basalt-judge"]
    # position: only primacy-judge
    assert abs(fair["first"] - 0.5) < 0.06
    for other in (verbose, basalt):
        assert abs(other["first"] - 0.5) < 0.06
    assert primacy["first"] > fair["first"] + 0.07
    assert fair["pc"] > primacy["pc"] + 0.1
    assert fair["acc"] > primacy["acc"]
    assert fair["acc"] > 0.6
    # length: verbose-judge prefers the longer answer more than the humans and the other judges
    decisive = gold[gold["winner"] != "tie"]
    h_longer = (decisive["winner"].to_numpy()
                == np.where(decisive["length_a"] > decisive["length_b"], "A", "B")).mean()
    assert abs(fair["longer"] - h_longer) < 0.04
    assert verbose["longer"] > h_longer + 0.05
    assert verbose["longer"] > max(fair["longer"], primacy["longer"], basalt["longer"]) + 0.05
    # self-preference: basalt-judge's win rate of basalt-13b answers against another system is inflated
    own_a = items["generator_a"] == "basalt-13b"
    own_b = items["generator_b"] == "basalt-13b"
    own_side = pd.Series(np.where(own_a, "A", "B"), index=items.index)[own_a | own_b]
    h_votes = gold[gold["item_id"].isin(own_side.index)]
    h_win = ((h_votes["winner"] == h_votes["item_id"].map(own_side)) + 0.5 * (h_votes["winner"] == "tie")).mean()
    win = {}
    for name in PAIRWISE_JUDGES:
        df = _pairwise_judge(demo_dir, name).dropna(subset=["shown"])
        df = df[df["item_id"].isin(own_side.index)]
        item = [back[o][v] for o, v in zip(df["order"], df["shown"])]
        own = df["item_id"].map(own_side).to_numpy()
        win[name] = float(((np.array(item) == own) + 0.5 * (np.array(item) == "tie")).mean())
    assert win["basalt-judge"] > h_win + 0.08
    assert win["basalt-judge"] > max(win["fair-judge"], win["primacy-judge"], win["verbose-judge"]) + 0.05
    assert abs(win["fair-judge"] - h_win) < 0.05


def test_simulate_accepts_str_path(tmp_path: Path) -> None:
    paths = simulate_demo(str(tmp_path), seed=0)
    assert isinstance(paths["pairwise"], Path)
    assert paths["pairwise"].is_file()
