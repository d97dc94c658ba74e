"""The front-matter parser: round trips, positions of YAML errors, key checks."""

from __future__ import annotations

import string
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kling_prompt.library import compile_text, frontmatter
from kling_prompt.library.frontmatter import Problem

# PyYAML's emitter does not round-trip raw NEL / line and paragraph separators; leave them out.
texts = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=40)
names = st.text(string.ascii_lowercase + "_", min_size=1, max_size=12).filter(lambda s: s[0] != "_")
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    texts,
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=4)),
    max_leaves=12,
)
front_matters = st.fixed_dictionaries(
    {},
    optional={
        "model": st.one_of(
            st.sampled_from(
                [
                    "fal-ai/kling-video/v3/pro/text-to-video",
                    "fal-ai/kling-video/o3/pro/video-to-video/edit",
                ]
            ),
            st.fixed_dictionaries(
                {"mode": st.sampled_from(["text-to-video", "image-to-video", "multi-shot"])},
                optional={"family": st.sampled_from(["v3", "O3", "v2.6"])},
            ),
        ),
        "config": st.dictionaries(names.filter(lambda n: n != "prompt"), values, max_size=5),
        "input": st.fixed_dictionaries(
            {},
            optional={
                "schema": st.dictionaries(
                    names, st.sampled_from(["string", "integer, a count", "boolean"]), max_size=4
                ),
                "default": st.dictionaries(names, scalars, max_size=4),
            },
        ),
        "metadata": st.fixed_dictionaries(
            {}, optional={"description": texts, "tags": st.lists(texts, max_size=3)}
        ),
        "examples": st.dictionaries(
            names,
            st.fixed_dictionaries(
                {},
                optional={
                    "vars": st.dictionaries(names, scalars, max_size=3),
                    "expect": st.lists(st.sampled_from(["KP301", "KP401"]), max_size=2),
                },
            ),
            min_size=1,
            max_size=3,
        ),
    },
)


@given(front_matters)
@settings(max_examples=150, deadline=None)
def test_any_valid_front_matter_round_trips(data: dict[str, Any]) -> None:
    dumped = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    text = f"---\n{dumped}---\nA body.\n"
    cut = frontmatter.split(text, "x.prompt")
    doc = frontmatter.parse(cut.front, cut.front_line, "x.prompt")
    assert doc.data == data
    assert frontmatter.check(doc) == []
    for path, entry in doc.index.items():
        assert 1 <= entry.value.line <= text.count("\n"), path


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None)
def test_compiling_never_raises(body: str) -> None:
    result = compile_text(
        "any.prompt", "---\nmodel: fal-ai/kling-video/v3/pro/text-to-video\n---\n" + body
    )
    for problem in result.problems:
        assert problem.code in {"KP001", "KP002", "KP003", "KP111"}


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("---\nmodel: x\nconfig:\n  duration: 5\n   aspect_ratio: 16:9\n---\nbody\n", 5, 16),
        ("---\nmodel: x\nconfig: [1, 2\n---\nbody\n", 3, 14),
        ("---\nmodel: x\nmodel: y\n---\nbody\n", 3, 1),
        ("---\nmodel: x\n", 1, 1),
        ("---\nmodle: x\n---\nbody\n", 2, 1),
        ("---\nmodel: x\nconfig:\n  prompt: hi\n---\n", 4, 3),
        ("---\nmodel: x\nexamples:\n  a: {var: {x: 1}}\n---\nbody\n", 4, 7),
        ("---\nmodel: x\ninput:\n  schema:\n    n: strng\n---\n{{ n }}\n", 5, 8),
    ],
)
def test_malformed_front_matter_is_kp001_at_the_line(text: str, line: int, column: int) -> None:
    result = compile_text("bad.prompt", text)
    assert [p.code for p in result.problems] == ["KP001"], result.problems
    loc = result.problems[0].loc
    assert loc is not None
    assert (loc.line, loc.column) == (line, column), result.problems[0].message


def test_unknown_key_suggests_the_right_one() -> None:
    result = compile_text("bad.prompt", "---\nmodle: x\n---\nbody\n")
    assert "did you mean 'model'" in result.problems[0].message


def test_file_without_front_matter_is_all_body() -> None:
    result = compile_text(
        "plain.prompt", "A red fox runs.\n", endpoint="fal-ai/kling-video/v3/pro/text-to-video"
    )
    assert result.problems == []
    assert result.requests[0].request.arguments == {"prompt": "A red fox runs."}


def test_split_rejects_unclosed_fence() -> None:
    with pytest.raises(Problem):
        frontmatter.split("---\na: 1\n", "x.prompt")


def test_variant_merge_replaces_lists_and_removes_nulls() -> None:
    base = frontmatter.parse("config:\n  a: 1\n  b: [1, 2]\n  c: x\n", 2, "base.prompt")
    variant = frontmatter.parse("config:\n  b: [3]\n  c: null\n", 2, "v.prompt")
    merged = frontmatter.merge(base, variant)
    assert merged.data == {"config": {"a": 1, "b": [3]}}
    assert merged.loc("config.a") is not None
    assert merged.loc("config.a").path == "base.prompt"
    assert merged.loc("config.b[0]").path == "v.prompt"  # type: ignore[union-attr]
    assert "config.b[1]" not in merged.index
