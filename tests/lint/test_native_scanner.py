"""The compiled lexicon scanner cuts every text exactly where the lexicon's regular expression
does (the regular expression is the reference), refuses phrase shapes it cannot follow, and the
matcher falls back to the regular expression whenever the scanner is missing or refused."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kling_prompt.linter import Linter
from kling_prompt.linter.lexicon import Matcher, compile_lexicons, native_scanner

lexscan = pytest.importorskip(
    "kling_prompt._lexscan", reason="the native scanner is not built here (no C compiler?)"
)

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "real_prompts.jsonl"
_MATCHER = Linter().matcher
_WORD_LED = [p for p in _MATCHER._keys if p[:1].isalnum() or p[:1] == "_"]
_SCANNER = lexscan.Scanner(_WORD_LED)


def _small(*phrases: str) -> Matcher:
    return Matcher(compile_lexicons({"t": {"categories": {"c": list(phrases)}}}))


def _same(matcher: Matcher, text: str) -> list[str]:
    """The scanner's cut of ``text``, after checking it against the regular expression's."""
    assert matcher.native
    got = matcher.split(text)
    assert got == matcher.pattern.split(" " + text), text
    return got


def test_the_linter_uses_the_scanner_when_it_is_built() -> None:
    assert _MATCHER.native
    assert _SCANNER.node_count > len(_WORD_LED)


def test_every_corpus_prompt_is_cut_as_the_regular_expression_cuts_it() -> None:
    if not CORPUS.is_file():
        pytest.skip("the shared corpus is not next to the project")
    texts = [json.loads(line)["prompt"] for line in CORPUS.read_text().splitlines() if line]
    assert len(texts) > 400
    for text in texts:
        lower = " " + text.lower()
        assert _SCANNER.split(lower) == _MATCHER.pattern.split(lower)


def test_longest_phrase_that_ends_at_a_boundary_wins() -> None:
    m = _small("red", "red car", "car park", "red car park sign")
    assert _same(m, "a red car park")[2::3] == ["red car"]
    assert _same(m, "red cart")[2::3] == ["red"]  # "red car" would end inside a word
    assert _same(m, "red car park sign")[2::3] == ["red car park sign"]
    assert _same(m, "red car park signs")[2::3] == ["red car"]  # then "park" is not a phrase
    assert _same(m, "red--car and red \u2003\n car")[2::3] == ["red--car", "red \u2003\n car"]


def test_boundaries_follow_python_word_characters() -> None:
    m = _small("red", "b&w", "don't")
    assert _same(m, "@red +red _red red_ redé éred 1red red1")[2::3] == []
    assert _same(m, "red,red.red(red)")[2::3] == ["red", "red", "red", "red"]
    assert _same(m, "b&w don't don'ts")[2::3] == ["b&w", "don't"]
    assert _same(m, "red")[2::3] == ["red"]  # at the very start and end of the text
    assert _same(m, "") == [" "]
    assert _same(m, "İred red")[2::3] == [
        "red"
    ]  # a capital that lowercasing kept is a word character


def test_phrase_shapes_the_scanner_cannot_follow_are_refused() -> None:
    for bad in (["-red"], [" red"], ["red "], ["red  car"], ["red-car"], ["red \tcar"], [""]):
        with pytest.raises(ValueError, match="cannot be scanned"):
            lexscan.Scanner(bad)
    with pytest.raises(TypeError):
        lexscan.Scanner([b"red"])
    with pytest.raises(TypeError):
        _SCANNER.split(b" red")


def test_the_matcher_falls_back_to_the_regular_expression(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled = compile_lexicons({"t": {"categories": {"c": ["red", "red car"]}}})
    assert Matcher(compiled).native
    assert not Matcher(compiled, native=False).native
    monkeypatch.setenv("KLING_PROMPT_PURE_PYTHON", "1")
    pure = Matcher(compiled)
    assert not pure.native
    assert pure.split("a red car") == [" a", " ", "red car", ""]
    # A phrase shape the scanner refuses: the regular expression takes over, or an error when
    # the scanner is demanded.
    assert native_scanner(["red", "x  y"], None) is None
    monkeypatch.delenv("KLING_PROMPT_PURE_PYTHON")
    assert native_scanner(["red", "x  y"], None) is None
    with pytest.raises(ValueError, match="cannot be scanned"):
        native_scanner(["red", "x  y"], True)


_SEPARATORS = [" ", "  ", "-", " - ", ", ", ".", "@", "+", "\n", "\u00a0", "\u2003", "_", "'", "’"]
_ODD = ["é", "İ", "A", "日本", "x", "9", "\t", "\x1f", "\x85", "--", "ǅ"]
pieces = st.one_of(
    st.sampled_from(_WORD_LED[::5]),
    st.sampled_from(_SEPARATORS + _ODD),
    st.text(alphabet="abcdeilnorst -@+'", max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(pieces, max_size=30), st.booleans())
def test_generated_texts_are_cut_as_the_regular_expression_cuts_them(
    parts: list[str], spaced_phrases: bool
) -> None:
    text = "".join(p.replace(" ", "-\u2003") if spaced_phrases else p for p in parts)
    for t in (" " + text, " " + text.lower(), text):
        assert _SCANNER.split(t) == _MATCHER.pattern.split(t)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="ab c'&é", min_size=1, max_size=6), min_size=1, max_size=12))
def test_generated_lexicons_agree_with_their_regular_expression(phrases: list[str]) -> None:
    compiled = compile_lexicons({"t": {"categories": {"c": phrases}}})
    words = [p for p in compiled["keys"] if p[:1].isalnum() or p[:1] == "_"]
    pattern = re.compile(compiled["pattern"])
    scanner = lexscan.Scanner(words)
    text = " " + " ".join(phrases) + " " + "-".join(reversed(phrases)) + " " + "".join(phrases)
    assert scanner.split(text) == pattern.split(text)


def _runs_repeat_reference(words: list[object], size: int) -> bool:
    runs = list(zip(*[words[i:] for i in range(size)], strict=False))
    return len(set(runs)) < len(runs)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.integers(0, 4), st.sampled_from([b"a", b"b", b"the", "a", 1.0, -1])),
        max_size=40,
    ),
    st.integers(1, 6),
)
def test_runs_repeat_is_a_set_of_runs(words: list[object], size: int) -> None:
    assert lexscan.runs_repeat(words, size) == _runs_repeat_reference(words, size)


def test_runs_repeat_examples_and_errors() -> None:
    words = b"a red kite flies over the beach and a red kite flies".split()
    assert lexscan.runs_repeat(words, 4)
    assert not lexscan.runs_repeat(words, 5)
    assert lexscan.runs_repeat([-1, -2, -1, -2], 2)  # hash(-1) == hash(-2) in CPython
    assert not lexscan.runs_repeat([-1, -2, -2, -1], 2)
    with pytest.raises(ValueError, match="at least 1"):
        lexscan.runs_repeat(words, 0)
    with pytest.raises(TypeError):
        lexscan.runs_repeat([[1], [1]], 1)  # unhashable words


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab é日 \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2003\u3000-")))
)
def test_word_count_is_the_length_of_split(text: str) -> None:
    assert lexscan.word_count(text) == len(text.split())
    assert lexscan.word_count(text + "\U0001f600 x") == len((text + "\U0001f600 x").split())


def test_analysis_counts_words_with_the_compiled_helper() -> None:
    from kling_prompt.linter import text

    assert text._WORD_COUNT is lexscan.word_count
    assert text.Analysis(" a\u3000b\x1cc ").word_count == 3


_DIGITISH = [*list("a1é9 ²½٣０𝟘߀٠x"), "😀", "¹"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(_DIGITISH)) | st.text())
def test_has_digit_is_the_digit_pattern(text: str) -> None:
    from kling_prompt.linter.checks.consistency import python_has_digit

    expected = re.search(r"\d", text) is not None
    assert lexscan.has_digit(text) == expected
    assert python_has_digit(text) == expected


def test_the_digit_pre_check_uses_the_compiled_helper() -> None:
    from kling_prompt.linter.checks import consistency

    assert consistency.has_digit is lexscan.has_digit
    assert lexscan.has_digit("shot at ٣ seconds")
    assert not lexscan.has_digit("x² ½")


_NEEDLES = ["@", "++", '"', "“", "shot", "<<<voice_", "é"]


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list('@+"“shot<voice_é x日'))),
    masks=st.lists(st.integers(0, 2**70), min_size=len(_NEEDLES), max_size=len(_NEEDLES)),
    wanted=st.integers(0, 2**70) | st.just(-1),
)
def test_gate_text_is_the_union_of_the_masks_of_the_needles_found(
    text: str, masks: list[int], wanted: int
) -> None:
    expected = 0
    for needle, mask in zip(_NEEDLES, masks, strict=True):
        if mask & wanted and needle in text:
            expected |= mask
    assert lexscan.gate_text(text, tuple(_NEEDLES), tuple(masks), wanted) == expected


def test_gate_text_refuses_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        lexscan.gate_text("a", ("a",), (1, 2), 1)
    with pytest.raises(TypeError):
        lexscan.gate_text("a", ["a"], (1,), 1)
    with pytest.raises(TypeError, match="not a str"):
        lexscan.gate_text("a", (1,), (1,), 1)
    assert lexscan.gate_text("", ("",), (4,), 4) == 4  # the empty needle is in every text


def test_an_exact_match_is_the_phrase_object_itself() -> None:
    """The scanner hands out its own phrase string for a match written exactly as the phrase
    (its hash is then computed once); a match written otherwise is a new string."""
    phrases = ["slow mo", "pan"]
    scanner = lexscan.Scanner(phrases)
    exact = scanner.split(" a slow mo pan")
    assert exact[2::3] == ["slow mo", "pan"]
    assert exact[2] is phrases[0]
    assert exact[5] is phrases[1]
    written = scanner.split(" slow-mo")
    assert written[2] == "slow-mo"
    assert written[2] is not phrases[0]
