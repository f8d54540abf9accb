"""Tests of metajudge.io: every input format, standardized gold / judge frames, error messages."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metajudge.config import GoldConfig, JudgeConfig, config_from_dict
from metajudge.errors import ConfigError, InputError
from metajudge.io import load_gold, load_judge, normalize_order, read_frame, sha256_of

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"

RECORDS = [
    {"item_id": "007", "rater": "h1", "label": "good", "domain": "math"},
    {"item_id": "3", "rater": "h1", "label": "bad", "domain": "code"},
    {"item_id": "3", "rater": "h2", "label": "good", "domain": "code"},
]


@pytest.fixture
def hf_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every Hugging Face cache inside tmp_path and stay offline."""
    home = tmp_path / "hf_home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(home / "datasets"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    return home


def datasets_module(monkeypatch: pytest.MonkeyPatch) -> object:
    datasets = pytest.importorskip("datasets")
    # the flags are read at import time; if another test imported datasets first, set them here too
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True, raising=False)
    try:
        import huggingface_hub.constants as hub_constants
    except ImportError:  # pragma: no cover - installed with datasets
        hub_constants = None
    if hub_constants is not None:
        monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True, raising=False)
    return datasets


def expected_frame() -> pd.DataFrame:
    return pd.DataFrame(RECORDS)


def check_table(df: pd.DataFrame) -> None:
    assert list(df.columns) == ["item_id", "rater", "label", "domain"]
    assert len(df) == 3
    assert df["label"].tolist() == ["good", "bad", "good"]


# ---------------------------------------------------------------------------------------------- formats


def test_csv(tmp_path: Path) -> None:
    p = tmp_path / "gold.csv"
    expected_frame().to_csv(p, index=False)
    df = read_frame(p, string_columns=["item_id"])
    check_table(df)
    assert df["item_id"].tolist() == ["007", "3", "3"]
    assert df.attrs["source"] == str(p)


def test_tsv_and_tab(tmp_path: Path) -> None:
    for name in ("gold.tsv", "gold.tab"):
        p = tmp_path / name
        expected_frame().to_csv(p, sep="\t", index=False)
        check_table(read_frame(p))


def test_gzip_csv(tmp_path: Path) -> None:
    p = tmp_path / "gold.csv.gz"
    with gzip.open(p, "wt", encoding="utf-8") as fh:
        expected_frame().to_csv(fh, index=False)
    check_table(read_frame(p))


def test_json_records_and_columns(tmp_path: Path) -> None:
    p = tmp_path / "records.json"
    p.write_text(json.dumps(RECORDS))
    check_table(read_frame(p))
    p = tmp_path / "columns.json"
    p.write_text(json.dumps({k: [r[k] for r in RECORDS] for k in RECORDS[0]}))
    check_table(read_frame(p))


def test_jsonl_skips_blank_lines(tmp_path: Path) -> None:
    p = tmp_path / "gold.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in RECORDS[:2]) + "\n\n   \n" + json.dumps(RECORDS[2]) + "\n")
    check_table(read_frame(p))
    p2 = tmp_path / "gold.ndjson"
    p2.write_text(p.read_text())
    check_table(read_frame(p2))


def test_parquet(tmp_path: Path) -> None:
    p = tmp_path / "gold.parquet"
    expected_frame().to_parquet(p)
    check_table(read_frame(p))
    p2 = tmp_path / "gold.pq"
    expected_frame().to_parquet(p2)
    check_table(read_frame(p2))


def test_explicit_format_overrides_suffix(tmp_path: Path) -> None:
    p = tmp_path / "gold.txt"
    expected_frame().to_csv(p, index=False)
    check_table(read_frame(p, format="csv"))


def test_dataframe_is_copied() -> None:
    src = expected_frame()
    df = read_frame(src)
    check_table(df)
    df.loc[0, "label"] = "changed"
    assert src.loc[0, "label"] == "good"


def test_dataset_object_and_dict(hf_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    datasets = datasets_module(monkeypatch)
    ds = datasets.Dataset.from_pandas(expected_frame(), preserve_index=False)
    check_table(read_frame(ds))
    dd = datasets.DatasetDict({"train": ds, "test": ds.select([0])})
    assert len(read_frame(dd, split="test")) == 1
    with pytest.raises(InputError, match=r"2 splits \(train, test\) and no split was chosen; set split:"):
        read_frame(dd)
    with pytest.raises(InputError, match="split 'dev' not found; splits present: train, test"):
        read_frame(dd, split="dev")
    check_table(read_frame(datasets.DatasetDict({"only": ds})))


def test_save_to_disk_folder(hf_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    datasets = datasets_module(monkeypatch)
    ds = datasets.Dataset.from_pandas(expected_frame(), preserve_index=False)
    folder = tmp_path / "saved"
    ds.save_to_disk(str(folder))
    check_table(read_frame(folder))                 # auto-detected
    check_table(read_frame(str(folder), format="hf"))
    dd_folder = tmp_path / "saved_dict"
    datasets.DatasetDict({"train": ds, "test": ds}).save_to_disk(str(dd_folder))
    check_table(read_frame(dd_folder, split="train"))
    assert sha256_of(folder) is not None and len(sha256_of(folder) or "") == 64


def test_hub_name_offline_gives_clear_error(hf_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    datasets_module(monkeypatch)
    with pytest.raises(InputError) as info:
        read_frame("some-org/no-such-dataset-for-metajudge-tests", format="hf", split="train",
                   what="gold set")
    msg = str(info.value)
    assert "could not be loaded from the Hugging Face hub" in msg
    assert "some-org/no-such-dataset-for-metajudge-tests" in msg
    assert "save_to_disk" in msg and "path:" in msg
    assert "\n" not in msg


def test_gold_config_with_hub_dataset(hf_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    datasets_module(monkeypatch)
    with pytest.raises(InputError, match="Hugging Face hub"):
        load_gold(GoldConfig(dataset="some-org/no-such-dataset-for-metajudge-tests", split="train"))


# ---------------------------------------------------------------------------------------------- read errors


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"judge 'j': file not found: .*nope\.csv \(current directory: "):
        read_frame(tmp_path / "nope.csv", what="judge 'j'")


def test_empty_files(tmp_path: Path) -> None:
    for name, content in [("a.csv", ""), ("b.jsonl", ""), ("c.jsonl", "\n\n"), ("d.json", "[]"),
                          ("e.csv", "item_id,label\n")]:
        p = tmp_path / name
        p.write_text(content)
        with pytest.raises(InputError, match="no rows"):
            read_frame(p)


def test_unknown_suffix(tmp_path: Path) -> None:
    p = tmp_path / "gold.xlsx"
    p.write_text("x")
    with pytest.raises(InputError, match=r"cannot tell the format from the suffix '.xlsx'; supported formats: "
                                         r"csv.*Set format:"):
        read_frame(p)


def test_plain_folder_is_not_a_dataset(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a Hugging Face save_to_disk folder"):
        read_frame(tmp_path)


def test_malformed_jsonl_line_number(tmp_path: Path) -> None:
    p = tmp_path / "judge.jsonl"
    p.write_text('{"item_id": 1, "out": "[[A]]"}\n\n{"item_id": 2, "out": "[[B]]"\n{"item_id": 3}\n')
    with pytest.raises(InputError) as info:
        read_frame(p, what="judge 'gpt'")
    msg = str(info.value)
    assert "judge 'gpt'" in msg and str(p) in msg
    assert "line 3" in msg and '{"item_id": 2' in msg


def test_jsonl_line_that_is_not_an_object(tmp_path: Path) -> None:
    p = tmp_path / "judge.jsonl"
    p.write_text('{"item_id": 1}\n[1, 2]\n')
    with pytest.raises(InputError, match="line 2: holds a list, not a JSON object"):
        read_frame(p)


def test_bad_json_and_csv(tmp_path: Path) -> None:
    p = tmp_path / "bad.json"
    p.write_text('[{"a": 1},\n {"a": }]')
    with pytest.raises(InputError, match="not valid JSON at line 2"):
        read_frame(p)
    p = tmp_path / "scalar.json"
    p.write_text('{"a": 1}')
    with pytest.raises(InputError, match="not a table"):
        read_frame(p)
    p = tmp_path / "bad.csv"
    p.write_text('a,b\n1,2\n3,4,5\n')
    with pytest.raises(InputError, match=r"not a valid CSV file: .*line 3"):
        read_frame(p)
    p = tmp_path / "bad.parquet"
    p.write_text("not parquet")
    with pytest.raises(InputError, match="cannot be read as Parquet"):
        read_frame(p)


def test_unsupported_object() -> None:
    with pytest.raises(InputError, match="cannot read a list"):
        read_frame([1, 2])  # type: ignore[arg-type]


def test_sha256(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_bytes(b"a\n1\n")
    assert sha256_of(p) == hashlib.sha256(b"a\n1\n").hexdigest()
    assert sha256_of(pd.DataFrame({"a": [1]})) is None
    assert sha256_of("org/hub-name-that-is-no-path") is None


# ---------------------------------------------------------------------------------------------- gold


def test_long_gold(tmp_path: Path) -> None:
    p = tmp_path / "gold.csv"
    pd.DataFrame({"qid": ["007", "3", "3"], "who": ["h1", "h1", 2], "y": [2, None, 3],
                  "domain": ["math", None, "code"]}).to_csv(p, index=False)
    cfg = GoldConfig(path="gold.csv", columns={"item": "qid", "rater": "who", "label": "y"}, slices=["domain"])
    g = load_gold(cfg, base_dir=tmp_path)
    assert list(g.columns) == ["item_id", "rater", "label", "row", "domain"]
    assert g["item_id"].tolist() == ["007", "3", "3"]
    assert g["rater"].tolist() == ["h1", "h1", "2"]
    assert g["label"].dtype == object and g["label"].tolist()[0] == 2 and pd.isna(g["label"].tolist()[1])
    assert g["row"].tolist() == [1, 2, 3]
    assert g["domain"].tolist() == ["math", "(missing)", "code"]
    assert g.attrs["source"] == str(tmp_path / "gold.csv")
    assert len(g.attrs["sha256"]) == 64 and g.attrs["missing_cells"] == 0


def test_long_gold_without_rater_column() -> None:
    g = load_gold(GoldConfig(columns={"rater": None}), data=pd.DataFrame(RECORDS))
    assert set(g["rater"]) == {"gold"}
    assert g.attrs["sha256"] is None


def test_wide_gold_counts_missing_cells(tmp_path: Path) -> None:
    p = tmp_path / "wide.json"
    p.write_text(json.dumps([
        {"id": 1.0, "ann_1": "A", "ann_2": "B", "ann_3": None},
        {"id": 2.0, "ann_1": "tie", "ann_2": "", "ann_3": "A"},
        {"id": 3.5, "ann_1": "B", "ann_2": "B", "ann_3": "B"},
    ]))
    cfg = GoldConfig(path=str(p), layout="wide", raters=["ann_1", "ann_2", "ann_3"], columns={"item": "id"})
    g = load_gold(cfg)
    assert g.attrs["missing_cells"] == 2
    assert len(g) == 7
    assert g["item_id"].tolist() == ["1", "1", "2", "2", "3.5", "3.5", "3.5"]  # 1.0 -> "1"
    assert g["rater"].tolist() == ["ann_1", "ann_2", "ann_1", "ann_3", "ann_1", "ann_2", "ann_3"]
    assert g["row"].tolist() == [1, 1, 2, 2, 3, 3, 3]


def test_item_ids_from_float_and_text(tmp_path: Path) -> None:
    # 3.0 from Parquet / JSON becomes "3"; "007" read from CSV stays "007"
    p = tmp_path / "g.parquet"
    pd.DataFrame({"item_id": [3.0, 12.0], "rater": ["a", "a"], "label": [1, 0]}).to_parquet(p)
    assert load_gold(GoldConfig(path=str(p)))["item_id"].tolist() == ["3", "12"]
    p = tmp_path / "g.csv"
    p.write_text("item_id,rater,label\n007,a,1\n3.0,a,0\n 42 ,a,1\n")
    assert load_gold(GoldConfig(path=str(p)))["item_id"].tolist() == ["007", "3.0", "42"]
    p = tmp_path / "g.tsv"
    p.write_text("item_id\trater\tlabel\n007\ta\t1\n")
    assert load_gold(GoldConfig(path=str(p)))["item_id"].tolist() == ["007"]


def test_missing_column_names_key(tmp_path: Path) -> None:
    p = tmp_path / "gold.csv"
    p.write_text("id,score,rationale\n1,2,ok\n")
    with pytest.raises(InputError) as info:
        load_gold(GoldConfig(path="gold.csv", columns={"item": "id"}), base_dir=tmp_path)
    msg = str(info.value)
    assert "gold set" in msg and "gold.csv" in msg
    assert ("columns 'rater' (gold.columns.rater), 'label' (gold.columns.label) not found; columns present: "
            "id, score, rationale. Set gold.columns.rater, gold.columns.label in the configuration") in msg


def test_missing_item_ids_are_reported() -> None:
    df = pd.DataFrame({"item_id": ["a", None, " "], "rater": "h", "label": 1})
    with pytest.raises(InputError, match=r"column 'item_id' \(gold.columns.item\) is empty in 2 row\(s\): "
                                         r"data rows 2, 3"):
        load_gold(GoldConfig(), data=df)


def test_gold_without_source() -> None:
    with pytest.raises(ConfigError, match="set gold.path"):
        load_gold(GoldConfig())


def test_wide_gold_missing_rater_column() -> None:
    df = pd.DataFrame({"item_id": [1], "h1": ["a"]})
    with pytest.raises(InputError, match=r"column 'h2' not found.*Set gold.raters"):
        load_gold(GoldConfig(layout="wide", raters=["h1", "h2"]), data=df)


def test_extra_slices_optional() -> None:
    df = pd.DataFrame({"item_id": [1], "rater": ["h"], "label": ["x"], "lang": ["en"]})
    g = load_gold(GoldConfig(), data=df, extra_slices=["lang", "difficulty"])
    assert g["lang"].tolist() == ["en"] and g.attrs["missing_slices"] == ["difficulty"]
    with pytest.raises(InputError, match="Set gold.slices"):
        load_gold(GoldConfig(slices=["difficulty"]), data=df)
    with pytest.raises(ConfigError, match="slice column 'label' has the name of a standard column"):
        load_gold(GoldConfig(slices=["label"]), data=df)


def test_gold_optional_columns() -> None:
    df = pd.DataFrame({"item_id": [1], "rater": ["h"], "label": ["A"], "model": ["m1"], "ga": ["x"],
                       "gb": ["y"], "la": [10], "lb": [20]})
    cfg = GoldConfig(columns={"system": "model", "generator_a": "ga", "generator_b": "gb", "length_a": "la",
                              "length_b": "lb"})
    g = load_gold(cfg, data=df)
    assert g.loc[0, ["system", "generator_a", "generator_b", "length_a", "length_b"]].tolist() == [
        "m1", "x", "y", 10, 20]
    with pytest.raises(InputError, match="Set gold.columns.text_a"):
        load_gold(GoldConfig(columns={"text_a": "resp_a"}), data=df)


# ---------------------------------------------------------------------------------------------- judges


def judge_cfg(**kw: object) -> JudgeConfig:
    return JudgeConfig.model_validate({"name": "gpt-judge", **kw})


def test_judge_extract_and_fallback(tmp_path: Path) -> None:
    p = tmp_path / "judge.jsonl"
    rows = [
        {"qid": 7.0, "judgment": "Assistant A is better. [[A]]", "shown": "AB", "rep": 0},
        {"qid": 7.0, "judgment": "[[A]] or [[B]]? I pick [[B]]", "shown": "BA", "rep": 1},
        {"qid": 8, "judgment": "no verdict", "shown": "swapped", "rep": 0},
        {"qid": 8, "judgment": None, "shown": None, "rep": None},
    ]
    p.write_text("\n".join(json.dumps(r) for r in rows))
    cfg = judge_cfg(path="judge.jsonl", columns={"item": "qid", "text": "judgment", "order": "shown",
                                                  "repeat": "rep"}, extract="mt-bench")
    j = load_judge(cfg, base_dir=tmp_path, index=0)
    assert j["item_id"].tolist() == ["7", "7", "8", "8"]
    assert set(j["rater"]) == {"gpt-judge"}
    assert j["label"].tolist() == ["A", None, None, None]
    assert j["parse_ok"].tolist() == [True, False, False, True]
    assert j["parse_reason"].tolist() == ["", "ambiguous", "no match", "missing"]
    assert j["raw"].tolist() == [rows[0]["judgment"], rows[1]["judgment"], "no verdict", None]
    assert j["order"].tolist() == ["AB", "BA", "BA", None]
    assert j["repeat"].tolist() == ["0", "1", "0", None]
    assert j["row"].tolist() == [1, 2, 3, 4]
    assert j.attrs["source"] == str(tmp_path / "judge.jsonl") and len(j.attrs["sha256"]) == 64

    # the fallback label is applied at alignment, not here: unparseable rows keep label None
    fb = load_judge(judge_cfg(path="judge.jsonl", columns={"item": "qid", "text": "judgment"},
                              extract="mt-bench", unparseable={"fallback": "tie"}), base_dir=tmp_path)
    assert fb["label"].tolist() == ["A", None, None, None]
    assert fb["parse_ok"].tolist() == [True, False, False, True]


def test_judge_label_column() -> None:
    df = pd.DataFrame({"item_id": ["1", "2", "3"], "label": [4, None, 5]})
    j = load_judge(judge_cfg(), data=df)
    assert j["label"].tolist()[0] == 4 and j["label"].tolist()[1] is None
    assert j["raw"].tolist() == [None, None, None]
    assert j["parse_ok"].all()
    assert j["parse_reason"].tolist() == ["", "missing", ""]
    assert j["order"].tolist() == [None, None, None] and j["repeat"].tolist() == [None, None, None]


def test_judge_extract_applied_to_label_column() -> None:
    df = pd.DataFrame({"item_id": [1, 2], "verdict": ["Rating: 7", "Rating: [[3]]"]})
    j = load_judge(judge_cfg(columns={"label": "verdict"}, extract="rating"), data=df)
    assert j["label"].tolist() == ["7", "3"] and j["raw"].tolist() == ["Rating: 7", "Rating: [[3]]"]


def test_judge_missing_column_message(tmp_path: Path) -> None:
    p = tmp_path / "gpt.jsonl"
    p.write_text('{"id": 1, "score": 2, "rationale": "ok"}\n')
    cfg = judge_cfg(path=str(p), columns={"item": "id", "label": "verdict"})
    with pytest.raises(InputError) as info:
        load_judge(cfg, index=0)
    msg = str(info.value)
    assert msg.startswith("judge 'gpt-judge' (")
    assert "gpt.jsonl): column 'verdict' not found; columns present: id, score, rationale." in msg
    assert "Set judges[0].columns.label" in msg


def test_judge_dataset_object(hf_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    datasets = datasets_module(monkeypatch)
    ds = datasets.Dataset.from_dict({"item_id": [1, 2], "out": ["8", "nine"]})
    j = load_judge(judge_cfg(columns={"text": "out"}, extract="score"), data=ds)
    assert j["label"].tolist() == ["8", None] and j["parse_reason"].tolist() == ["", "no match"]


@pytest.mark.parametrize(("raw", "expected"), [
    ("AB", "AB"), ("ba", "BA"), ("original", "AB"), ("Swapped", "BA"), (0, "AB"), (1, "BA"), (1.0, "BA"),
    ("0", "AB"), (False, "AB"), (True, "BA"), ("true", "BA"), ("A_first", "AB"), ("b_first", "BA"),
    ("B-first", "BA"), (None, None), (np.nan, None),
])
def test_order_normalization(raw: object, expected: str | None) -> None:
    assert normalize_order(pd.Series([raw], dtype=object)).tolist() == [expected]


def test_order_invalid_values() -> None:
    df = pd.DataFrame({"item_id": [1, 2, 3], "label": ["A", "B", "A"], "pos": ["AB", "left", 2]})
    with pytest.raises(InputError) as info:
        load_judge(judge_cfg(columns={"order": "pos"}), data=df, index=1)
    msg = str(info.value)
    assert "column 'pos' holds 2 value(s) that are not a shown order: 'left', '2' (rows 2, 3)" in msg
    assert "AB / BA, original / swapped, 0 / 1, false / true, A_first / B_first" in msg


def test_order_from_boolean_column(tmp_path: Path) -> None:
    p = tmp_path / "j.parquet"
    pd.DataFrame({"item_id": ["a", "a"], "label": ["A", "B"], "swap": [False, True]}).to_parquet(p)
    j = load_judge(judge_cfg(path=str(p), columns={"order": "swap"}))
    assert j["order"].tolist() == ["AB", "BA"]


def test_config_paths_resolve_against_config_folder(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    pd.DataFrame(RECORDS).to_csv(tmp_path / "data" / "gold.csv", index=False)
    pd.DataFrame({"item_id": ["007", "3"], "label": ["good", "bad"]}).to_parquet(tmp_path / "data" / "j.parquet")
    cfg_file = tmp_path / "metajudge.yaml"
    cfg_file.write_text("scale: {kind: binary}\ngold: {path: data/gold.csv, slices: [domain]}\n"
                        "judges: [{name: j, path: data/j.parquet}]\n")
    from metajudge.config import load_config

    cfg = load_config(cfg_file)
    g = load_gold(cfg.gold, cfg.base_dir)
    j = load_judge(cfg.judges[0], cfg.base_dir, index=0)
    assert g["item_id"].tolist() == ["007", "3", "3"] and j["item_id"].tolist() == ["007", "3"]
    assert config_from_dict({"scale": {"kind": "binary"}, "gold": {}, "judges": [{"name": "x"}]})


# ---------------------------------------------------------------------------------------------- real data


@pytest.mark.skipif(not (REALDATA / "summeval_llm_shen2023" / "llm_ratings.parquet").exists(),
                    reason="../shared/realdata (summeval_llm_shen2023) not available next to the repository")
def test_realdata_summeval_parquet() -> None:
    path = REALDATA / "summeval_llm_shen2023" / "llm_ratings.parquet"
    df = read_frame(path)
    assert len(df) == 43_812
    assert {"evaluator", "model_id", "dimension", "id", "score"} <= set(df.columns)
    cfg = judge_cfg(path=str(path), columns={"item": "id", "label": "score", "system": "model_id"},
                    slices=["dimension"])
    j = load_judge(cfg)
    assert len(j) == len(df) and j["item_id"].map(type).eq(str).all()
    assert j.attrs["sha256"] == sha256_of(path)


@pytest.mark.skipif(not (REALDATA / "trec_llmjudge" / "llm_vs_human_labels_wide.csv").exists(),
                    reason="../shared/realdata (trec_llmjudge) not available next to the repository")
def test_realdata_trec_wide_gold() -> None:
    path = REALDATA / "trec_llmjudge" / "llm_vs_human_labels_wide.csv"
    raw = read_frame(path)
    # items are (qid, docid) pairs; this only checks reading, with docid as the item column
    g = load_gold(GoldConfig(path=str(path), layout="wide", raters=["human"], columns={"item": "docid"},
                             slices=["qid"]))
    assert len(g) + g.attrs["missing_cells"] == len(raw)
    assert set(g["rater"]) == {"human"}
    assert set(g["label"].dropna().astype(int)) <= {0, 1, 2, 3}
    assert g["item_id"].str.startswith("p").all()
    j = load_judge(judge_cfg(path=str(path), columns={"item": "docid", "label": "Olz-exp"}))
    assert len(j) == len(raw)


# ------------------------------------------------------------------------------------ pyarrow ingest
def _same_frames(a, b):
    assert list(a.columns) == list(b.columns)
    for c in a.columns:
        x = a[c].astype(object).where(a[c].notna(), None).tolist()
        y = b[c].astype(object).where(b[c].notna(), None).tolist()
        assert x == y, c


def test_large_csv_tsv_jsonl_read_through_pyarrow_equal_the_plain_readers(tmp_path):
    """Files over 1 MB are read by pyarrow; the frames equal pandas' and the line reader's, value for value."""
    import json

    from metajudge import io as mio

    rng = np.random.default_rng(3)
    n = 60_000
    df = pd.DataFrame({"item": [f"{i:07d}" for i in range(n)],       # leading zeros: kept as text
                       "label": rng.choice(["1", "2", "3", "", "NA", "x y"], n),
                       "score": rng.normal(size=n).round(6), "flag": rng.choice(["True", "False"], n),
                       "text": rng.choice(["a, b", 'say "hi"', "plain"], n)})
    for sep, name in ((",", "big.csv"), ("\t", "big.tsv")):
        p = tmp_path / name
        df.to_csv(p, sep=sep, index=False)
        assert p.stat().st_size > 1 << 20
        fast = mio._read_csv_arrow(p, sep, ["item"])
        assert fast is not None
        _same_frames(fast, pd.read_csv(p, sep=sep, dtype={"item": str}))
    p = tmp_path / "big.jsonl"
    with open(p, "w", encoding="utf-8") as fh:
        for i in range(n):
            rec = {"item": f"q{i}", "label": None if i % 7 == 0 else str(i % 5), "score": float(i % 13) / 3}
            if i % 11 == 0:
                rec["extra"] = "z"
            fh.write(json.dumps(rec) + "\n")
    fast = mio._read_jsonl_arrow(p)
    assert fast is not None
    _same_frames(fast, pd.DataFrame.from_records([json.loads(x) for x in p.read_text().splitlines()]))
    _same_frames(mio._read_jsonl(p, "judge"), fast)


def test_pyarrow_ingest_falls_back_where_it_would_change_values(tmp_path):
    import json

    from metajudge import io as mio

    n = 40_000
    p = tmp_path / "dates.csv"
    pd.DataFrame({"item": range(n), "when": ["2024-01-02"] * n, "pad": ["x" * 30] * n}).to_csv(p, index=False)
    assert p.stat().st_size > 1 << 20 and mio._read_csv_arrow(p, ",", []) is None  # dates stay text via pandas
    assert mio._read_csv(p, ",", [], "gold")["when"].iloc[0] == "2024-01-02"
    q = tmp_path / "nested.jsonl"
    with open(q, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"item": i, "conversation": [{"role": "user", "content": "x" * 20}]}) + "\n")
    assert mio._read_jsonl_arrow(q) is None  # nested values: the line reader keeps Python lists
    assert isinstance(mio._read_jsonl(q, "judge")["conversation"].iloc[0], list)
