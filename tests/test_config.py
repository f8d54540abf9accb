"""Tests of metajudge.config: models, file loading, error messages, overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metajudge.config import (
    Config,
    ExtractConfig,
    FallbackConfig,
    ScaleConfig,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    load_config,
)
from metajudge.errors import ConfigError, ScaleError
from metajudge.scales import Scale

YAML = """\
title: pairwise demo
task: pairwise
scale: {kind: pairwise, ties: true}
gold:
  path: data/human_votes.jsonl
  columns: {item: question_id, rater: annotator, label: winner}
judges:
  - name: gpt-judge
    path: runs/gpt_judge.jsonl
    columns: {item: question_id, text: judgment, order: shown_order}
    extract: mt-bench
    order_frame: shown
    unparseable: {fallback: tie}
bootstrap: {n_resamples: 2000, confidence_level: 0.95, seed: 0}
"""

TOML = """\
title = "toml demo"

[scale]
kind = "ordinal"
levels = ["poor", "fair", "good", "great"]

[gold]
path = "gold.csv"
layout = "wide"
raters = ["h1", "h2"]
columns = { item = "id" }

[[judges]]
name = "j1"
path = "j1.parquet"
columns = { item = "id", label = "score" }

[[judges]]
name = "j2"
path = "j2.jsonl"
columns = { item = "id", text = "output" }
extract = { regex = "Verdict: (\\\\w+)", flags = "i", map = { Good = "good" } }
"""


def minimal(**extra: object) -> dict:
    d: dict = {"scale": {"kind": "binary"}, "gold": {"path": "g.csv"},
               "judges": [{"name": "j", "path": "j.csv"}]}
    d.update(extra)
    return d


def message(d: dict) -> str:
    with pytest.raises(ConfigError) as info:
        config_from_dict(d, source="metajudge.yaml")
    return str(info.value)


# ---------------------------------------------------------------------------------------------- loading


def test_load_yaml(tmp_path: Path) -> None:
    p = tmp_path / "metajudge.yaml"
    p.write_text(YAML)
    cfg = load_config(p)
    assert cfg.title == "pairwise demo"
    assert cfg.task == "pairwise"
    assert cfg.gold.columns.item == "question_id"
    j = cfg.judges[0]
    assert j.extract == "mt-bench"
    assert j.columns.text == "judgment"
    assert j.verdict_column == "judgment"
    assert j.order_frame == "shown"
    assert isinstance(j.unparseable, FallbackConfig) and j.fallback == "tie"
    assert cfg.bootstrap.n_resamples == 2000
    assert cfg.base_dir == tmp_path.resolve()
    assert cfg.resolve_path(cfg.gold.path) == tmp_path.resolve() / "data" / "human_votes.jsonl"
    assert cfg.resolve_path("/abs/x.csv") == Path("/abs/x.csv")


def test_load_toml(tmp_path: Path) -> None:
    p = tmp_path / "cfg.toml"
    p.write_text(TOML)
    cfg = load_config(p)
    assert cfg.task == "pointwise"  # inferred from the scale
    assert cfg.gold.layout == "wide" and cfg.gold.raters == ["h1", "h2"]
    assert cfg.judges[0].columns.label == "score"
    ex = cfg.judges[1].extract
    assert isinstance(ex, ExtractConfig)
    assert ex.regex == r"Verdict: (\w+)" and ex.flags == "i" and ex.map == {"Good": "good"}
    scale = cfg.scale.to_scale()
    assert isinstance(scale, Scale) and scale.levels == ("poor", "fair", "good", "great")


def test_load_json(tmp_path: Path) -> None:
    p = tmp_path / "cfg.json"
    p.write_text(json.dumps(minimal()))
    assert load_config(p).judges[0].name == "j"


def test_yaml_keeps_yes_no_as_strings(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("scale: {kind: binary, levels: [no, yes], positive: yes, synonyms: {y: yes, 1: yes}}\n"
                 "gold: {path: g.csv}\njudges: [{name: j, path: j.csv}]\n")
    cfg = load_config(p)
    assert cfg.scale.levels == ["no", "yes"]
    assert cfg.scale.positive == "yes"
    assert cfg.scale.synonyms == {"y": "yes", "1": "yes"}
    assert cfg.scale.to_scale().positive == "yes"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found: .*nope.yaml"):
        load_config(tmp_path / "nope.yaml")


def test_unsupported_suffix(tmp_path: Path) -> None:
    p = tmp_path / "cfg.ini"
    p.write_text("[x]")
    with pytest.raises(ConfigError, match=r"unsupported configuration file type '.ini'; use .yaml"):
        load_config(p)


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("scale:\n  kind: binary\ngold: {path: g.csv\njudges: []\n")
    with pytest.raises(ConfigError, match=r"YAML syntax error at line \d+, column \d+"):
        load_config(p)


def test_toml_syntax_error(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("[scale]\nkind = binary\n")
    with pytest.raises(ConfigError, match=r"TOML syntax error: .*line 2"):
        load_config(p)


def test_empty_and_non_mapping(tmp_path: Path) -> None:
    p = tmp_path / "empty.yaml"
    p.write_text("")
    with pytest.raises(ConfigError, match="empty"):
        load_config(p)
    p.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(p)


# ---------------------------------------------------------------------------------------------- errors


def test_unknown_key_suggests_closest(tmp_path: Path) -> None:
    d = minimal()
    d["judges"][0]["colums"] = {"text": "x"}
    msg = message(d)
    assert "judges[0].colums" in msg
    assert "did you mean 'columns'?" in msg
    assert "metajudge.yaml" in msg
    assert "{" not in msg.split("valid keys")[0]  # not pydantic's raw dump


def test_unknown_nested_and_top_level_keys_all_listed() -> None:
    d = minimal(titel="x")
    d["gold"]["columns"] = {"item": "id", "lable": "y"}
    msg = message(d)
    assert "2 problems" in msg
    assert "titel: unknown key; did you mean 'title'?" in msg
    assert "gold.columns.lable: unknown key; did you mean 'label'?" in msg


def test_wrong_literal_suggests_value() -> None:
    msg = message(minimal(scale={"kind": "ordinl"}))
    assert "scale.kind" in msg and "did you mean 'ordinal'?" in msg and "found 'ordinl'" in msg


def test_extract_errors() -> None:
    d = minimal()
    d["judges"][0].update(columns={"text": "out"}, extract="mtbench")
    msg = message(d)
    assert "judges[0].extract" in msg and "unknown extract preset 'mtbench'" in msg and "mt-bench" in msg
    d["judges"][0]["extract"] = {"regx": "(a)"}
    assert "judges[0].extract.regx: unknown key; did you mean 'regex'?" in message(d)
    d["judges"][0]["extract"] = {"regex": "(a)(b)"}
    assert "2 capture groups" in message(d)
    d["judges"][0]["extract"] = {"regex": "(a", "flags": "i"}
    assert "not a valid regular expression" in message(d)
    d["judges"][0]["extract"] = {"regex": "(a)", "flags": "q"}
    assert "unknown regex flag 'q'" in message(d)
    d["judges"][0]["extract"] = {"preset": "rating", "regex": "(a)"}
    assert "exactly one of extract.preset" in message(d)


def test_judge_columns_rules() -> None:
    d = minimal()
    d["judges"][0].update(columns={"text": "x", "label": "y"}, extract="rating")
    assert "set only one" in message(d)
    d["judges"][0].update(columns={"text": "x"}, extract=None)
    assert "has no extract" in message(d)
    d["judges"][0].update(columns={}, extract="rating")
    assert "set columns.text" in message(d)
    # label + extract: extract applies to the label column
    d["judges"][0].update(columns={"label": "verdict"}, extract="rating")
    cfg = config_from_dict(d)
    assert cfg.judges[0].verdict_column == "verdict"
    # neither, no extract: the column called "label"
    cfg = config_from_dict(minimal())
    assert cfg.judges[0].columns.label is None and cfg.judges[0].verdict_column == "label"


def test_unparseable_forms() -> None:
    d = minimal()
    d["judges"][0]["unparseable"] = "skip"
    msg = message(d)
    assert "judges[0].unparseable" in msg and "'exclude'" in msg and "fallback" in msg
    d["judges"][0]["unparseable"] = {}
    assert "judges[0].unparseable.fallback: required key is missing" in message(d)
    d["judges"][0]["unparseable"] = {"fallback": 0}
    assert config_from_dict(d).judges[0].fallback == 0


def test_gold_rules() -> None:
    assert "gold.raters is not set" in message(minimal(gold={"path": "g.csv", "layout": "wide"}))
    assert "only applies to layout: wide" in message(minimal(gold={"path": "g.csv", "raters": ["a"]}))
    assert "set only one" in message(minimal(gold={"path": "g.csv", "dataset": "org/name"}))
    assert "format must be 'hf'" in message(minimal(gold={"dataset": "org/name", "format": "csv"}))
    # neither path nor dataset: allowed (data passed through the API)
    assert config_from_dict(minimal(gold={})).gold.path is None


def test_bootstrap_ranges_and_unique_names() -> None:
    msg = message(minimal(bootstrap={"n_resamples": -1, "confidence_level": 95}))
    assert "bootstrap.n_resamples" in msg and "bootstrap.confidence_level" in msg and "found 95" in msg
    msg = message(minimal(judges=[{"name": "a", "path": "x"}, {"name": "a", "path": "y"}]))
    assert "judge names must be unique" in msg and "'a'" in msg
    assert "judges: expected at least 1 entry" in message(minimal(judges=[]))
    assert "gold: required key is missing" in message({"scale": {"kind": "binary"}, "judges": [{"name": "j"}]})


def test_task_inference_and_conflict() -> None:
    assert config_from_dict(minimal(scale={"kind": "pairwise"})).task == "pairwise"
    assert config_from_dict(minimal(scale={"kind": "interval"})).task == "pointwise"
    assert "task is 'pointwise' but scale.kind is 'pairwise'" in message(
        minimal(task="pointwise", scale={"kind": "pairwise"}))


def test_to_scale_propagates_scale_error() -> None:
    cfg = config_from_dict(minimal(scale={"kind": "ordinal"}))
    with pytest.raises(ScaleError, match="needs a declared order"):
        cfg.scale.to_scale()
    s = ScaleConfig(kind="ordinal", minimum=1, maximum=5).to_scale()
    assert s.levels == ("1", "2", "3", "4", "5")


def test_not_a_mapping() -> None:
    with pytest.raises(ConfigError, match="must be a mapping"):
        config_from_dict(["x"])  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- overrides


def test_overrides_apply_and_revalidate(tmp_path: Path) -> None:
    cfg = config_from_dict(minimal(), base_dir=tmp_path)
    new = apply_overrides(cfg, {
        "gold.columns.item": "qid",
        "judges[0].columns.text": "resp",
        "judges[j].extract": "mt-bench",
        "bootstrap.seed": "3",
        "bootstrap.confidence_level": "0.9",
        "scale.levels": "[fail, pass]",
        "gold.columns.rater": "null",
        "compare_judges": "false",
    })
    assert new.gold.columns.item == "qid"
    assert new.judges[0].columns.text == "resp" and new.judges[0].extract == "mt-bench"
    assert new.bootstrap.seed == 3 and new.bootstrap.confidence_level == 0.9
    assert new.scale.levels == ["fail", "pass"]
    assert new.gold.columns.rater is None
    assert new.compare_judges is False
    assert new.base_dir == tmp_path.resolve()
    assert cfg.bootstrap.seed == 0  # the original is untouched


def test_override_text_keys_keep_value_as_written() -> None:
    cfg = config_from_dict(minimal())
    assert apply_overrides(cfg, {"gold.columns.item": "007"}).gold.columns.item == "007"
    assert apply_overrides(cfg, {"title": "3"}).title == "3"


def test_override_sub_key_of_preset_extract() -> None:
    d = minimal()
    d["judges"][0].update(columns={"text": "out"}, extract="mt-bench")
    new = apply_overrides(config_from_dict(d), {"judges[0].extract.regex": r"verdict: (\w+)"})
    assert isinstance(new.judges[0].extract, ExtractConfig)
    assert new.judges[0].extract.regex == r"verdict: (\w+)"


@pytest.mark.parametrize(("key", "expected"), [
    ("gold.colums.item", "unknown key 'gold.colums'. Did you mean 'columns'?"),
    ("judges[3].name", "index 3 is out of range; judges has 1 entry"),
    ("judges[nope].name", "no entry named 'nope'"),
    ("title.x", "holds a single value"),
    ("gold..item", "cannot parse the key path"),
    ("nonsense", "unknown key 'nonsense'"),
])
def test_override_unknown_paths(key: str, expected: str) -> None:
    with pytest.raises(ConfigError, match="override") as info:
        apply_overrides(config_from_dict(minimal()), {key: "x"})
    assert expected in str(info.value)


def test_override_invalid_value_names_key() -> None:
    with pytest.raises(ConfigError, match=r"bootstrap.seed: expected a valid integer.*found 'abc'"):
        apply_overrides(config_from_dict(minimal()), {"bootstrap.seed": "abc"})


# ---------------------------------------------------------------------------------------------- provenance


def test_config_to_dict_is_json_and_round_trips(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text(YAML)
    cfg = load_config(p)
    d = config_to_dict(cfg)
    text = json.dumps(d)
    again = config_from_dict(json.loads(text))
    assert isinstance(again, Config)
    assert config_to_dict(again) == d
    assert d["judges"][0]["unparseable"] == {"fallback": "tie"}
