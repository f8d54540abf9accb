"""MT-Bench human judgments adapter, on small files written here in the schema of the HF dataset
``lmsys/mt_bench_human_judgments`` (as Parquet, and as a ``datasets`` save_to_disk folder), plus the registry
and the ``metajudge gold`` / ``report --gold NAME --data-dir`` commands."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, cohen_kappa_score
from typer.testing import CliRunner

from metajudge.cli import app
from metajudge.goldsets import GoldSetError, card_text, get_spec, load_gold_set, registry, run_gold_set

MODELS = ["alpaca-13b", "claude-v1", "gpt-3.5-turbo", "gpt-4", "llama-13b", "vicuna-13b-v1.2"]


def _conv(rng, q, turn):
    c = [{"role": "user", "content": f"question {q}"},
         {"role": "assistant", "content": "a" * int(rng.integers(10, 400))}]
    if turn == 2:
        c += [{"role": "user", "content": "follow-up"}, {"role": "assistant", "content": "b" * int(rng.integers(10, 400))}]
    return c


def make_splits(seed: int = 0):
    """~60 items with 1-3 expert votes each and one GPT-4 verdict; the model order in a row is random."""
    rng = np.random.default_rng(seed)
    human, gpt4 = [], []
    for q in range(81, 91):
        for turn in (1, 2):
            pairs = rng.choice(len(MODELS), size=(3, 2), replace=True)
            seen = set()
            for i, j in pairs:
                if i == j or (min(i, j), max(i, j)) in seen:
                    continue
                seen.add((min(i, j), max(i, j)))
                truth = rng.choice(["model_a", "model_b", "tie"], p=[0.45, 0.4, 0.15])
                for ann in rng.choice(["expert_1", "expert_2", "author_0"], size=int(rng.integers(1, 4)),
                                      replace=False):
                    a, b = (MODELS[i], MODELS[j]) if rng.random() < 0.5 else (MODELS[j], MODELS[i])
                    # each annotator saw the pair in its own order: the vote follows the truth in that order
                    vote = truth if rng.random() < 0.75 else rng.choice(["model_a", "model_b", "tie"])
                    if (a, b) != (MODELS[i], MODELS[j]) and vote != "tie":
                        vote = "model_b" if vote == "model_a" else "model_a"
                    human.append(dict(question_id=q, model_a=a, model_b=b, winner=vote, judge=str(ann),
                                      conversation_a=_conv(rng, q, turn), conversation_b=_conv(rng, q, turn),
                                      turn=turn))
                a, b = (MODELS[i], MODELS[j]) if rng.random() < 0.5 else (MODELS[j], MODELS[i])
                v = truth if rng.random() < 0.7 else rng.choice(["model_a", "model_b", "tie", "tie (inconsistent)"])
                if (a, b) != (MODELS[i], MODELS[j]) and v in ("model_a", "model_b"):
                    v = "model_b" if v == "model_a" else "model_a"
                gpt4.append(dict(question_id=q, model_a=a, model_b=b, winner=v, judge="gpt4_pair",
                                 conversation_a=_conv(rng, q, turn), conversation_b=_conv(rng, q, turn), turn=turn))
    return pd.DataFrame(human), pd.DataFrame(gpt4)


@pytest.fixture(scope="module")
def splits():
    return make_splits()


@pytest.fixture
def parquet_dir(tmp_path, splits):
    human, gpt4 = splits
    d = tmp_path / "mtb"
    d.mkdir()
    human.to_parquet(d / "human.parquet")
    gpt4.to_parquet(d / "gpt4_pair.parquet")
    return d


def _oracle(human: pd.DataFrame, gpt4: pd.DataFrame):
    """Independent reading: winner name per row, majority winner name over votes, GPT-4 winner name."""
    def winner_name(df):
        w = np.where(df["winner"] == "model_a", df["model_a"],
                     np.where(df["winner"] == "model_b", df["model_b"], "tie"))
        key = [f"{q}|{t}|{'|'.join(sorted((a, b)))}" for q, t, a, b in
               zip(df["question_id"], df["turn"], df["model_a"], df["model_b"])]
        return pd.DataFrame({"key": key, "w": w, "judge": df["judge"].to_numpy()})

    h = winner_name(human).drop_duplicates(["key", "judge"])
    ref = {}
    for k, g in h.groupby("key"):
        c = g["w"].value_counts()
        if len(c) > 1 and c.iloc[0] == c.iloc[1]:
            continue  # tie among annotators: no reference
        ref[k] = c.index[0]
    g4 = winner_name(gpt4).set_index("key")["w"]
    keys = sorted(k for k in ref if k in g4.index)

    def slot(k, w):  # A = the alphabetically first model of the pair (the key holds the sorted pair)
        first, second = k.split("|")[2:4]
        return {first: "A", second: "B"}.get(w, "tie")

    return [slot(k, ref[k]) for k in keys], [slot(k, g4[k]) for k in keys]


def test_registry_lists_the_sets():
    reg = registry()
    assert "mt_bench_human" in reg
    spec = get_spec("MT-Bench-Human")  # case and dashes do not matter
    assert spec.license == "CC-BY-4.0" and spec.hub_id == "lmsys/mt_bench_human_judgments"
    assert "MT-Bench" in card_text("mt_bench_human")
    with pytest.raises(GoldSetError, match="unknown gold set 'mt_bench_humn'.*mt_bench_human"):
        get_spec("mt_bench_humn")


def test_orientation_is_by_sorted_model_name():
    rows = dict(question_id=[81, 81], model_a=["vicuna-13b-v1.2", "alpaca-13b"],
                model_b=["alpaca-13b", "vicuna-13b-v1.2"], winner=["model_a", "model_b"], judge=["e1", "e2"],
                conversation_a=[[], []], conversation_b=[[], []], turn=[1, 1])
    from metajudge.goldsets.mt_bench import frames

    h = pd.DataFrame(rows)
    g = h.iloc[:1].assign(judge="gpt4_pair", winner="tie (inconsistent)")
    gold, judge, counts = frames(h, g)
    # both voted for vicuna, which sorts second: "B" in both rows, whatever slot it was shown in
    assert gold["label"].tolist() == ["B", "B"]
    assert gold["item_id"].nunique() == 1 and gold["generator_a"].iloc[0] == "alpaca-13b"
    assert judge["label"].tolist() == ["tie"] and counts == {"inconsistent_as_tie": 1}
    _, judge2, counts2 = frames(h, g, inconsistent="exclude")
    assert len(judge2) == 0 and counts2 == {"inconsistent_excluded": 1}


def test_parquet_agreement_matches_independent_oracle(parquet_dir, splits):
    human, gpt4 = splits
    gs = load_gold_set("mt_bench_human", parquet_dir)
    t = gs.table
    assert t.judges == ["gpt4_pair"] and set(t.humans) == {"expert_1", "expert_2", "author_0"}
    assert set(gs.files) == {"human.parquet", "gpt4_pair.parquet"} and all(len(v) == 64 for v in gs.files.values())
    ref, g4 = _oracle(human, gpt4)
    a = run_gold_set("mt_bench_human", parquet_dir, n_resamples=100, probes=[])
    ag = a.agreement
    pa = ag[(ag.metric == "percent_agreement") & (ag.slice == "all") & (ag.judge == "gpt4_pair")]
    kap = ag[(ag.metric == "cohen_kappa") & (ag.slice == "all") & (ag.judge == "gpt4_pair")]
    # GPT-4's "tie (inconsistent)" counts as a tie: the oracle maps it to "tie" too
    g4 = ["tie" if w == "tie (inconsistent)" else w for w in g4]
    assert pa["estimate"].iloc[0] == pytest.approx(accuracy_score(ref, g4), abs=1e-12)
    assert kap["estimate"].iloc[0] == pytest.approx(cohen_kappa_score(ref, g4), abs=1e-12)
    assert int(pa["n"].iloc[0]) == len(ref)
    # lengths are the characters of the assistant answer of that turn, oriented with the sorted pair
    row = human.iloc[0]
    lo = min(row.model_a, row.model_b)
    conv = row.conversation_a if row.model_a == lo else row.conversation_b
    answers = [m["content"] for m in conv if m["role"] == "assistant"]
    attrs = t.item_attrs
    key = f"{row.question_id}|t{row.turn}|{lo}|{max(row.model_a, row.model_b)}"
    assert attrs.loc[key, "length_a"] == len(answers[row.turn - 1])


def test_without_a_folder_the_hub_is_tried_and_offline_says_what_to_do(tmp_path, monkeypatch):
    """No data directory: the hub name is loaded when online; offline (as here) a clear error names the local
    alternatives."""
    datasets = pytest.importorskip("datasets")
    asked = []

    def offline(name, *a, **k):  # what load_dataset does without a network, without waiting for timeouts
        asked.append(name)
        raise ConnectionError("Couldn't reach the Hugging Face Hub (offline)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(GoldSetError, match=r"could not load lmsys/mt_bench_human_judgments.*save_to_disk"):
        load_gold_set("mt_bench_human", None)
    assert asked == ["lmsys/mt_bench_human_judgments"]


def test_datasets_folder_gives_the_same_numbers(tmp_path, parquet_dir, splits):
    datasets = pytest.importorskip("datasets")
    import os

    os.environ.setdefault("HF_DATASETS_CACHE", str(tmp_path / "hf_cache"))
    human, gpt4 = splits
    dd = datasets.DatasetDict({"human": datasets.Dataset.from_pandas(human, preserve_index=False),
                               "gpt4_pair": datasets.Dataset.from_pandas(gpt4, preserve_index=False)})
    folder = tmp_path / "saved"
    dd.save_to_disk(str(folder))
    a = run_gold_set("mt_bench_human", folder, n_resamples=100, probes=[])
    b = run_gold_set("mt_bench_human", parquet_dir, n_resamples=100, probes=[])
    cols = ["judge", "metric", "slice", "estimate", "ci_low", "ci_high"]
    pd.testing.assert_frame_equal(a.agreement[cols].reset_index(drop=True), b.agreement[cols].reset_index(drop=True))


def test_missing_split_and_bad_option(tmp_path, parquet_dir):
    (tmp_path / "empty").mkdir()
    with pytest.raises(GoldSetError, match="no split.*human.*gpt4_pair"):
        load_gold_set("mt_bench_human", tmp_path / "empty")
    with pytest.raises(GoldSetError, match="inconsistent must be tie or exclude"):
        load_gold_set("mt_bench_human", parquet_dir, inconsistent="flip")
    with pytest.raises(GoldSetError, match="has no option 'dimension'"):
        load_gold_set("mt_bench_human", parquet_dir, dimension="x")
    with pytest.raises(GoldSetError, match="needs its data directory"):
        load_gold_set("llmbar", None)  # a set without a hub copy needs its folder
    bad = tmp_path / "bad"
    bad.mkdir()
    pd.DataFrame({"question_id": [1]}).to_parquet(bad / "human.parquet")
    pd.DataFrame({"question_id": [1]}).to_parquet(bad / "gpt4_pair.parquet")
    with pytest.raises(GoldSetError, match="columns .*model_a.* are missing"):
        load_gold_set("mt_bench_human", bad)


runner = CliRunner()


def test_cli_gold_list_and_show():
    r = runner.invoke(app, ["gold", "list", "--format", "json"])
    assert r.exit_code == 0, r.output
    names = [x["name"] for x in json.loads(r.stdout)]
    assert names == sorted(names) and "mt_bench_human" in names
    r = runner.invoke(app, ["gold", "show", "mt_bench_human"])
    assert r.exit_code == 0 and "lmsys/mt_bench_human_judgments" in r.stdout and "## Schema" in r.stdout
    r = runner.invoke(app, ["gold", "show", "nope"])
    assert r.exit_code == 1 and "unknown gold set 'nope'" in r.output and "Traceback" not in r.output


def test_cli_report_gold_data_dir(tmp_path, parquet_dir):
    out = tmp_path / "rep"
    r = runner.invoke(app, ["report", "--gold", "mt_bench_human", "--data-dir", str(parquet_dir), "-o", str(out),
                            "--n-resamples", "50", "--quiet", "--gold-option", "turn=1"])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "results.json").read_text())
    assert res["provenance"]["gold_set"] == "mt_bench_human"
    assert res["config"]["gold_set"]["options"]["turn"] == "1"
    html = (out / "report.html").read_text()
    assert "MT-Bench human judgments" in html
    r = runner.invoke(app, ["report", "--gold", "mt_bench_human", "--data-dir", str(tmp_path / "nowhere"),
                            "-o", str(out), "--quiet"])
    assert r.exit_code == 1 and "does not exist" in r.output and "Traceback" not in r.output
