"""CoBBLEr gold set: the adapter and ``analyses/cobbler.py`` on ../shared/realdata/cobbler.

Every pinned number is recomputed here from the raw JSON files with plain Python / numpy / sklearn / scipy
(rank-implied preferences, majorities, leave-one-out references, Kendall τ per instruction, rank-biased
overlap by set intersections), not with metajudge or the analysis module.
"""

from __future__ import annotations

import importlib
import json
import sys
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from sklearn.metrics import cohen_kappa_score

from metajudge.goldsets import GoldSetError, get_spec, load_gold_set
from metajudge.goldsets import cobbler as cobbler_adapter  # importing registers the adapter

ANALYSES = Path(__file__).resolve().parents[1] / "analyses"
HUMANS = [f"annot_{k}" for k in range(1, 7)]
LIST_ORDER = ["vicuna", "baize", "koala", "wizardlm", "chatgpt", "instructgpt", "gpt4", "cohere", "dolly",
              "openassist", "redpajama", "mpt", "alpaca", "falcon", "llama"]
TABLE_COLUMNS = ["rater", "kind", "n_items", "n_majority", "tie_rate", "percent_agreement", "cohen_kappa",
                 "cohen_kappa_ci_low",
                 "cohen_kappa_ci_high", "loao_percent_agreement", "loao_cohen_kappa", "loao_cohen_kappa_ci_low",
                 "loao_cohen_kappa_ci_high", "kendall_tau_group", "loao_kendall_tau_group",
                 "loao_kendall_tau_group_ci_low", "loao_kendall_tau_group_ci_high", "rbo", "rbo_published", "note"]
#: figure5.py of the repository (the paper's figure 5)
FIGURE5 = {"vicuna": 0.524, "baize": 0.11, "koala": 0.509, "wizardlm": 0.223, "chatgpt": 0.619,
           "instructgpt": 0.395, "gpt4": 0.456, "cohere": 0.529, "dolly": 0.607, "openassist": 0.467,
           "redpajama": 0.255, "mpt": 0.502, "alpaca": 0.153, "falcon": 0.57, "llama": 0.471}
#: read off table.csv and recomputed below: rater -> (percent agreement, κ, LOAO κ, τ per instruction, RBO)
PINNED = {
    "chatgpt": (0.807865, 0.633898, 0.564084, 0.634725, 0.4931667),
    "gpt4": (0.692242, 0.410110, 0.364863, 0.402427, 0.4121667),
    "baize": (0.123958, -0.711741, -0.633269, -0.622808, 0.1461667),
    "list_order": (0.896132, 0.792404, 0.706329, 0.653211, 0.524),
}
HUMAN_CEILING = {"loao_percent_agreement": 0.772286, "loao_cohen_kappa": 0.544475, "loao_kendall_tau_group": 0.545356,
                 "rbo": 0.4778667}


# ------------------------------------------------------------------------------------------ raw data
@pytest.fixture(scope="module")
def folder(realdata: Path) -> Path:
    f = realdata / "cobbler"
    if not f.is_dir():
        pytest.skip(f"{f} missing")
    return f


@pytest.fixture(scope="module")
def raw(folder: Path) -> dict:
    humans = {h: json.loads((folder / "human_annotations" / f"{h}.json").read_text()) for h in HUMANS}
    evals = {p.stem.replace("nC2_preferences_", ""): json.loads(p.read_text())
             for p in sorted((folder / "model_annotations").glob("nC2_preferences_*.json"))}
    responses = json.loads((folder / "responses_by_instruction.json").read_text())
    return {"humans": humans, "evals": evals, "responses": responses, "systems": sorted(humans["annot_1"][0])}


def _sign(d: dict, a: str, b: str) -> str:
    return "A" if d[a] > d[b] else "B" if d[a] < d[b] else "tie"


@pytest.fixture(scope="module")
def pairs(raw: dict) -> pd.DataFrame:
    """One row per (instruction, a < b): each annotator's and evaluator's rank-implied preference."""
    rows = []
    for q in range(50):
        for a, b in combinations(raw["systems"], 2):
            r = {"q": q, "a": a, "b": b}
            for h in HUMANS:
                r[h] = _sign(raw["humans"][h][q], a, b)
            for e, lists in raw["evals"].items():
                r[e] = _sign(lists[q], a, b)
            r["list_order"] = "A" if LIST_ORDER.index(a) < LIST_ORDER.index(b) else "B"
            la, lb = len(raw["responses"][q][a]), len(raw["responses"][q][b])
            r["always_longer"] = "A" if la > lb else "B" if lb > la else "tie"
            r["alphabetical"] = "A"
            rows.append(r)
    return pd.DataFrame(rows)


def _majority(df: pd.DataFrame, cols: list[str]) -> pd.Series:
    a = (df[cols] == "A").sum(axis=1)
    b = (df[cols] == "B").sum(axis=1)
    return pd.Series(np.where(a > b, "A", np.where(b > a, "B", None)), index=df.index)


def _kappa(ref: pd.Series, cand: pd.Series) -> tuple[float, float]:
    ok = ref.notna()
    r, c = ref[ok].astype(str), cand[ok].astype(str)
    return float((r == c).mean()), float(cohen_kappa_score(r, c, labels=["A", "tie", "B"]))


def _rbo(s: list[str], t: list[str], p: float = 0.8) -> float:
    return sum((1 - p) * p ** (d - 1) * len(set(s[:d]) & set(t[:d])) / d for d in range(1, min(len(s), len(t)) + 1))


# ------------------------------------------------------------------------------------------ analysis run
@pytest.fixture(scope="module")
def study(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(ANALYSES))
    mod = importlib.import_module("cobbler")
    out = tmp_path_factory.mktemp("cobbler")
    assert mod.main(["--data-dir", str(folder.parent), "-o", str(out), "--n-resamples", "200"]) == 0
    return out


@pytest.fixture(scope="module")
def table(study: Path) -> pd.DataFrame:
    return pd.read_csv(study / "table.csv")


# ------------------------------------------------------------------------------------------ adapter
def test_adapter_pairs_view(folder: Path, raw: dict, pairs: pd.DataFrame) -> None:
    gs = load_gold_set("cobbler", folder)
    t = gs.table
    assert t.scale.kind == "pairwise" and t.humans == HUMANS
    assert t.judges == sorted(raw["evals"]) and len(t.judges) == 16 and "llamav2" in t.judges
    assert len(t.reference) == 50 * 105 == len(pairs)
    # 3-3 splits among the 6 annotators have no majority: counted, not guessed
    undefined = int(_majority(pairs, HUMANS).isna().sum())
    assert undefined == 571 == int(t.coverage.set_index("source").loc["gold", "reference_undefined"])
    # A is the alphabetically first system, and the labels are the rank-implied preferences
    item = "q07|chatgpt|gpt4"
    row = pairs[(pairs["q"] == 7) & (pairs["a"] == "chatgpt") & (pairs["b"] == "gpt4")].iloc[0]
    codes = {"A": 0.0, "tie": 1.0, "B": 2.0}
    d = t.data[t.data["item_id"] == item].set_index("rater")["value"]
    for r in HUMANS + ["gpt4", "dolly"]:
        assert d[r] == codes[row[r]], r
    attrs = t.item_attrs.loc[item]
    assert (attrs["generator_a"], attrs["generator_b"]) == ("chatgpt", "gpt4")
    assert attrs["length_a"] == len(raw["responses"][7]["chatgpt"])
    assert attrs["group"] == "q07"
    assert gs.probe_options["self_preference"]["families"]["gpt4"] == "gpt4"
    assert any("dolly: 49" in n for n in gs.notes)
    assert any("llamav2: llamav2" in n for n in gs.notes)
    assert len(gs.files) == 2 + 6 + 16
    assert get_spec("cobbler") is cobbler_adapter.SPEC and cobbler_adapter.SPEC.folder == "cobbler"


def test_adapter_ranks_view_and_new_release(folder: Path, raw: dict) -> None:
    gs = load_gold_set("cobbler", folder, view="ranks", evaluators="gpt4,chatgpt")
    t = gs.table
    assert t.scale.kind == "interval" and t.judges == ["gpt4", "chatgpt"]
    assert len(t.reference) == 750
    w = t.wide()
    assert w.loc["q03|koala", "annot_2"] == raw["humans"]["annot_2"][3]["koala"]
    assert w.loc["q03|koala", "gpt4"] == raw["evals"]["gpt4"][3]["koala"]
    assert t.reference["q03|koala"] == pytest.approx(np.mean([raw["humans"][h][3]["koala"] for h in HUMANS]))
    new = load_gold_set("cobbler", folder, release="new")
    assert len(new.table.reference) == 50 * 78                      # 13 systems
    assert {"mistral", "olmo"} <= set(new.table.judges) and "dolly" not in new.table.judges
    assert not ({"dolly", "redpajama"} & set(new.table.item_attrs["generator_a"]))


@pytest.mark.parametrize("opts, match", [
    ({"view": "scores"}, "view must be"),
    ({"release": "v2"}, "release must be"),
    ({"evaluators": "gpt-4"}, "did you mean 'gpt4'"),
    ({"order": "AB"}, "has no option"),
])
def test_adapter_bad_options(folder: Path, opts: dict, match: str) -> None:
    with pytest.raises(GoldSetError, match=match):
        load_gold_set("cobbler", folder, **opts)


def test_adapter_missing_files(tmp_path: Path) -> None:
    with pytest.raises(GoldSetError, match="does not exist"):
        load_gold_set("cobbler", tmp_path / "nowhere")
    (tmp_path / "cobbler").mkdir()
    with pytest.raises(GoldSetError, match="lacks"):
        load_gold_set("cobbler", tmp_path)


# ------------------------------------------------------------------------------------------ analysis
def test_outputs(study: Path, table: pd.DataFrame) -> None:
    assert list(table.columns) == TABLE_COLUMNS
    for name in ("table.csv", "table.tex", "rbo_pairs.csv", "agreement.csv", "probes.csv", "agreement.pdf",
                 "agreement.svg"):
        assert (study / name).stat().st_size > 0, name
    tex = (study / "table.tex").read_text(encoding="utf-8")
    assert "human\\_ceiling" in tex and "list\\_order" in tex and "always\\_longer" in tex and "$\\kappa$" in tex
    assert (study / "agreement.pdf").read_bytes().startswith(b"%PDF")
    assert set(table["kind"]) == {"evaluator", "human", "baseline"}
    assert (table["kind"] == "evaluator").sum() == 16
    probes = pd.read_csv(study / "probes.csv")
    assert {"length", "self_preference", "leniency", "system"} <= set(probes["probe"])


def test_pairwise_agreement_matches_sklearn(table: pd.DataFrame, pairs: pd.DataFrame) -> None:
    t = table.set_index("rater")
    full = _majority(pairs, HUMANS)
    loo = {h: _majority(pairs, [x for x in HUMANS if x != h]) for h in HUMANS}
    assert all(r.notna().all() for r in loo.values())               # 5 annotators never tie
    for r in [*pairs.columns[3 + 6:]]:
        pa, k = _kappa(full, pairs[r])
        assert t.loc[r, "percent_agreement"] == pytest.approx(pa, abs=1e-9), r
        assert t.loc[r, "cohen_kappa"] == pytest.approx(k, abs=1e-9), r
        lk = np.mean([_kappa(loo[h], pairs[r])[1] for h in HUMANS])
        lpa = np.mean([_kappa(loo[h], pairs[r])[0] for h in HUMANS])
        assert t.loc[r, "loao_cohen_kappa"] == pytest.approx(lk, abs=1e-9), r
        assert t.loc[r, "loao_percent_agreement"] == pytest.approx(lpa, abs=1e-9), r
        assert t.loc[r, "tie_rate"] == pytest.approx((pairs[r] == "tie").mean(), abs=1e-9)
        assert t.loc[r, "n_majority"] == int((full.notna() & pairs[r].notna()).sum()), r
    assert t.loc["human_ceiling", "n_majority"] == int(full.notna().sum()) == len(pairs) - 571
    hk = np.mean([_kappa(loo[h], pairs[h])[1] for h in HUMANS])
    hpa = np.mean([_kappa(loo[h], pairs[h])[0] for h in HUMANS])
    assert t.loc["human_ceiling", "loao_cohen_kappa"] == pytest.approx(hk, abs=1e-9)
    assert t.loc["human_ceiling", "loao_percent_agreement"] == pytest.approx(hpa, abs=1e-9)
    assert np.isnan(t.loc["human_ceiling", "cohen_kappa"])


def test_metajudge_ceiling_rows_agree(study: Path, table: pd.DataFrame) -> None:
    """metajudge's own leave-one-out rows (agreement.csv) have the same point estimates as the table."""
    agr = pd.read_csv(study / "agreement.csv")
    ceil = agr[(agr["section"] == "ceiling") & (agr["metric"] == "cohen_kappa")].set_index("judge")["estimate"]
    t = table.set_index("rater")
    for r in ["human_ceiling", "gpt4", "chatgpt", "baize", "dolly"]:
        assert ceil[r] == pytest.approx(t.loc[r, "loao_cohen_kappa"], abs=1e-9), r
    agree = agr[(agr["section"] == "agreement") & (agr["metric"] == "cohen_kappa")].set_index("judge")
    assert agree.loc["gpt4", "estimate"] == pytest.approx(t.loc["gpt4", "cohen_kappa"], abs=1e-9)
    # the 105 pairs of an instruction share one ranking: resampling instructions gives wider intervals than
    # metajudge's default resampling of pairs
    width_table = t.loc["gpt4", "cohen_kappa_ci_high"] - t.loc["gpt4", "cohen_kappa_ci_low"]
    width_pairs = agree.loc["gpt4", "ci_high"] - agree.loc["gpt4", "ci_low"]
    assert width_table > 1.5 * width_pairs


def test_rank_agreement_matches_scipy(table: pd.DataFrame, raw: dict) -> None:
    systems = raw["systems"]
    H = np.array([[[d[s] for s in systems] for d in raw["humans"][h]] for h in HUMANS], dtype=float)
    t = table.set_index("rater")

    def tau(ref: np.ndarray, cand: np.ndarray) -> float:
        vals = [sps.kendalltau(r, c).statistic for r, c in zip(ref, cand)]
        return float(np.nanmean(vals))

    for e in ["gpt4", "chatgpt", "baize", "dolly", "llama"]:
        C = np.array([[d[s] for s in systems] for d in raw["evals"][e]], dtype=float)
        assert t.loc[e, "kendall_tau_group"] == pytest.approx(tau(H.mean(axis=0), C), abs=1e-9), e
        loo = [tau(np.delete(H, h, axis=0).mean(axis=0), C) for h in range(6)]
        assert t.loc[e, "loao_kendall_tau_group"] == pytest.approx(np.mean(loo), abs=1e-9), e
    hc = np.mean([tau(np.delete(H, h, axis=0).mean(axis=0), H[h]) for h in range(6)])
    assert t.loc["human_ceiling", "loao_kendall_tau_group"] == pytest.approx(hc, abs=1e-9)
    lo = np.tile([-LIST_ORDER.index(s) for s in systems], (50, 1)).astype(float)
    assert t.loc["list_order", "kendall_tau_group"] == pytest.approx(tau(H.mean(axis=0), lo), abs=1e-9)
    # dolly's counts are all equal on 49 instructions: τ is defined on the one left
    assert "1 of 50 instructions" in t.loc["dolly", "note"]


def test_rbo_authors_convention(study: Path, table: pd.DataFrame, raw: dict) -> None:
    systems = raw["systems"]
    hr = {h: [sorted(systems, key=lambda s: -d[s]) for d in raw["humans"][h]] for h in HUMANS}
    er = {e: [sorted(systems, key=lambda s: (-d[s], s)) for d in raw["evals"][e]] for e in raw["evals"]}
    pair_means = [round(np.mean([_rbo(x, y) for x, y in zip(hr[a], hr[b])]), 3) for a, b in combinations(HUMANS, 2)]
    t = table.set_index("rater")
    assert t.loc["human_ceiling", "rbo"] == pytest.approx(np.mean(pair_means), abs=1e-9)
    hm = {}
    for e in raw["evals"]:
        per = [round(np.mean([_rbo(x, y) for x, y in zip(hr[h], er[e])]), 3) for h in HUMANS]
        hm[e] = per
        assert t.loc[e, "rbo"] == pytest.approx(np.mean(per), abs=1e-9), e
    # identical rankings score 1 - 0.8^15 without the extrapolated tail
    assert _rbo(systems, systems) == pytest.approx(1 - 0.8 ** 15)
    rp = pd.read_csv(study / "rbo_pairs.csv")
    assert len(rp) == 15 + 6 * 17 and set(rp["kind"]) == {"human-human", "human-evaluator", "human-baseline"}
    overall = np.mean([v for e in FIGURE5 for v in hm[e]])              # the paper's 15 evaluators x 6 annotators
    assert overall == pytest.approx(0.3565222, abs=1e-6)
    assert abs(overall - 0.496) > 0.1                                   # the abstract's 49.6% is not reproduced
    for e, v in FIGURE5.items():
        assert t.loc[e, "rbo_published"] == v
    assert np.isnan(t.loc["llamav2", "rbo_published"])
    # dolly: its released win counts are all 0 on 49 instructions, so its ranking is the alphabetical tie-break
    assert sum(len(set(d.values())) == 1 for d in raw["evals"]["dolly"]) == 49
    assert t.loc["dolly", "rbo"] == pytest.approx(0.318, abs=1e-3) and FIGURE5["dolly"] == 0.607


def test_pinned_values(table: pd.DataFrame) -> None:
    t = table.set_index("rater")
    cols = ["percent_agreement", "cohen_kappa", "loao_cohen_kappa", "kendall_tau_group", "rbo"]
    for r, vals in PINNED.items():
        assert t.loc[r, cols].to_numpy(dtype=float) == pytest.approx(np.array(vals), abs=1e-6), r
    for c, v in HUMAN_CEILING.items():
        assert t.loc["human_ceiling", c] == pytest.approx(v, abs=1e-6), c
    ev = t[t["kind"] == "evaluator"]
    for r in ["human_ceiling", *ev.index]:
        lo, hi = t.loc[r, "loao_cohen_kappa_ci_low"], t.loc[r, "loao_cohen_kappa_ci_high"]
        assert lo <= t.loc[r, "loao_cohen_kappa"] <= hi, r
    # only ChatGPT and Falcon reach the human ceiling (their intervals overlap the ceiling's point)
    above = ev.index[ev["loao_cohen_kappa_ci_high"] >= t.loc["human_ceiling", "loao_cohen_kappa"]]
    assert sorted(above) == ["chatgpt", "falcon"]
    # the annotators' rankings follow the fixed list order more than they follow each other
    assert t.loc["list_order", "loao_cohen_kappa"] > t.loc["human_ceiling", "loao_cohen_kappa_ci_high"]


def test_list_order_in_the_human_rankings(raw: dict) -> None:
    """Each annotator's ranking agrees with the fixed order in which the release lists the systems (mean τ per
    instruction 0.43-0.66), and not with the per-instruction letters shown to them."""
    systems = LIST_ORDER
    for h in HUMANS:
        taus = [sps.kendalltau([d[s] for s in systems], range(15, 0, -1)).statistic for d in raw["humans"][h]]
        assert 0.4 < np.mean(taus) < 0.7, h


def test_self_preference_probe(study: Path, pairs: pd.DataFrame) -> None:
    probes = pd.read_csv(study / "probes.csv")
    row = probes[(probes["judge"] == "gpt4") & (probes["metric"] == "self_preference_inflation")].iloc[0]
    own = pairs[(pairs["a"] == "gpt4") | (pairs["b"] == "gpt4")]
    side = np.where(own["a"] == "gpt4", "A", "B")
    judge = np.where(own["gpt4"] == side, 1.0, np.where(own["gpt4"] == "tie", 0.5, 0.0)).mean()
    human = np.mean([(own[h] == side).mean() for h in HUMANS])
    assert row["n"] == len(own) == 700
    assert row["estimate"] == pytest.approx(judge - human, abs=1e-9)
    assert row["estimate"] == pytest.approx(0.237619, abs=1e-6)
