"""Tests of metajudge.extract: presets, user regexes, multiple matches, missing text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metajudge.config import ExtractConfig
from metajudge.errors import ConfigError
from metajudge.extract import PRESETS, REASONS, Extractor, extract_verdicts, make_extractor

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def run(texts: list, spec: object) -> list[tuple[object, str]]:
    out = extract_verdicts(pd.Series(texts, dtype=object), spec)  # type: ignore[arg-type]
    return list(zip(out["label"].tolist(), out["reason"].tolist(), strict=True))


def test_presets_have_docs() -> None:
    assert {"mt-bench", "rating", "output-ab", "score"} <= set(PRESETS)
    for name, ex in PRESETS.items():
        assert isinstance(ex, Extractor) and ex.name == name and len(ex.description) > 20


def test_mt_bench() -> None:
    texts = [
        "Assistant A follows the user's instructions better and answers more precisely.\n\n[[A]]",
        "After weighing both answers, my final verdict is: [[B]]",
        "Both responses are equally helpful. [[C]]",
        "Final verdict: [[A]]. To restate: [[A]]",          # repeated, agreeing
        "If A is better output [[A]], if B is better [[B]]. Verdict: [[A]]",  # distinct -> ambiguous
        "I think assistant A is better.",                   # no brackets
        "",
        None,
        float("nan"),
    ]
    assert run(texts, "mt-bench") == [
        ("A", ""), ("B", ""), ("tie", ""), ("A", ""), (None, "ambiguous"), (None, "no match"),
        (None, "missing"), (None, "missing"), (None, "missing"),
    ]


def test_rating() -> None:
    texts = [
        "The answer is accurate and detailed. Rating: [[7]]",
        "rating: 7.5",
        "RATING: 4/10 because it misses the second part.",
        "Overall this deserves [[9]].",
        "Rating: 3\n...on reflection, Rating: 5",            # ambiguous
        "Rating: [[8]] (I repeat: Rating: 8)",               # agreeing matches
        "The response is good.",
    ]
    assert run(texts, "rating") == [
        ("7", ""), ("7.5", ""), ("4", ""), ("9", ""), (None, "ambiguous"), ("8", ""), (None, "no match"),
    ]


def test_output_ab_llmbar_style() -> None:
    texts = [
        "Output (a)",
        " Output (b). ",
        "Output (a) does not follow the instruction. Output (b) is concise. Therefore, Output (b) is better.",
        "Therefore, based on the evaluation, Output (a) is the better output.",
        "Output (a) and Output (b) are equally helpful.",   # no verdict statement
        "Output (a) is better. Output (b) is better.",       # ambiguous
    ]
    assert run(texts, "output-ab") == [
        ("A", ""), ("B", ""), ("B", ""), ("A", ""), (None, "no match"), (None, "ambiguous"),
    ]


def test_score() -> None:
    assert run(["8", " 4.5 \n", "-1", "8/10", "Score: 8", "eight", None], "score") == [
        ("8", ""), ("4.5", ""), ("-1", ""), (None, "no match"), (None, "no match"), (None, "no match"),
        (None, "missing"),
    ]


def test_score_accepts_numeric_column() -> None:
    out = extract_verdicts(pd.Series([8.0, 4.5, np.nan]), "score")
    assert out["label"].tolist() == ["8", "4.5", None]
    assert out["reason"].tolist() == ["", "", "missing"]


def test_arena_hard_and_yes_no() -> None:
    assert run(["My final verdict is [[A>>B]]", "[[B>A]]", "[[A=B]]", "[[A>B]] ... [[B>A]]"], "arena-hard") == [
        ("A", ""), ("B", ""), ("tie", ""), (None, "ambiguous")]
    assert run(["Yes, the answer is correct.", "**No**. It is wrong.", "Maybe"], "yes-no") == [
        ("yes", ""), ("no", ""), (None, "no match")]


def test_user_regex_with_map_and_flags() -> None:
    spec = {"regex": r"verdict:\s*(\w+)", "flags": "i", "map": {"good": "pass", "bad": "fail"}}
    assert run(["Verdict: GOOD", "verdict: bad", "VERDICT: ugly", "Verdict: good ... verdict: Good",
                "no verdict here"], spec) == [
        ("pass", ""), ("fail", ""), ("ugly", ""), ("pass", ""), (None, "no match")]
    # case-sensitive without the flag
    assert run(["Verdict: good"], {"regex": r"verdict: (\w+)"}) == [(None, "no match")]


def test_user_regex_named_group_and_config_object() -> None:
    spec = ExtractConfig(regex=r"(Winner|Choice): (?P<verdict>[12])", map={"1": "A", "2": "B"})
    assert run(["Winner: 1", "Choice: 2", "Winner: 3"], spec) == [("A", ""), ("B", ""), (None, "no match")]


def test_multiline_and_dotall_flags() -> None:
    assert run(["intro\nA\nend"], {"regex": r"^([AB])$", "flags": "m"}) == [("A", "")]
    assert run(["<v>\nA\n</v>"], {"regex": r"<v>(.*)</v>", "flags": "s"}) == [("A", "")]


def test_preset_with_map() -> None:
    assert run(["[[A]]", "[[C]]"], {"preset": "mt-bench", "map": {"A": "first", "tie": "draw"}}) == [
        ("first", ""), ("draw", "")]


def test_index_is_kept() -> None:
    s = pd.Series(["[[A]]", "[[B]]"], index=[10, 10])
    out = extract_verdicts(s, "mt-bench")
    assert out.index.tolist() == [10, 10] and out["label"].tolist() == ["A", "B"]
    assert set(out["reason"]) <= set(REASONS)


def test_errors() -> None:
    with pytest.raises(ConfigError, match=r"unknown extract preset 'mtbench'.*mt-bench"):
        extract_verdicts(["[[A]]"], "mtbench")
    with pytest.raises(ConfigError, match="capture group"):
        extract_verdicts(["x"], {"regex": "no group"})
    with pytest.raises(ConfigError, match=r"extract.regx: unknown key; did you mean 'regex'"):
        extract_verdicts(["x"], {"regx": "(x)"})
    with pytest.raises(ConfigError, match="preset name"):
        make_extractor(3)  # type: ignore[arg-type]


def test_large_input_is_handled() -> None:
    # correctness at scale; timing lives in benchmarks/, not in tests
    rng = np.random.default_rng(0)
    verdicts = rng.choice(["[[A]]", "[[B]]", "[[C]]", "none"], size=100_000)
    texts = pd.Series([f"Assistant A is thorough; assistant B is brief. {v}" for v in verdicts])
    out = extract_verdicts(texts, "mt-bench")
    mapping = {"[[A]]": "A", "[[B]]": "B", "[[C]]": "tie"}
    assert out["label"].tolist() == [mapping.get(v) for v in verdicts]
    assert (out["reason"] == "no match").sum() == (verdicts == "none").sum()


@pytest.mark.skipif(not (REALDATA / "llmbar" / "judgments.parquet").exists(),
                    reason="shared/realdata/llmbar not available next to the repository")
def test_output_ab_matches_llmbar_authors_parse() -> None:
    df = pd.read_parquet(REALDATA / "llmbar" / "judgments.parquet",
                         columns=["completion_swap_false", "winner_swap_false"])
    out = extract_verdicts(df["completion_swap_false"], "output-ab")
    authors = df["winner_swap_false"].map({"1": "A", "2": "B"})
    both = (out["reason"] == "") & authors.notna()
    agreement = (out.loc[both, "label"] == authors[both]).mean()
    assert both.sum() > 30_000
    assert agreement > 0.99
    counts = out["reason"].value_counts()
    assert counts.get("missing", 0) > 0  # empty completions are counted as missing, not unparseable
