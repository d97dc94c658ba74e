"""Property tests: any valid spec renders, deterministically, with a sound source map."""

from __future__ import annotations

import importlib
import itertools
import re
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kling_prompt.request import Request
from kling_prompt.spec import PromptSpec, iter_text_fields, load_spec

R = importlib.import_module("kling_prompt.rendering")

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ALPHABET = "abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789 éñ ,.;:!?'\"-()…\n\t"
PUNCT = ",.;:!?…"

text = st.text(alphabet=ALPHABET, min_size=1, max_size=24).filter(
    lambda s: any(c.isalnum() for c in s)
)
url = st.sampled_from(["https://x/a.png", "https://x/b.jpg", "data:image/png;base64,AAAA"])
video_url = st.sampled_from(["https://x/in.mp4", "https://x/dance.mov"])


def texts(max_size: int = 2, min_size: int = 0) -> st.SearchStrategy[list[str]]:
    return st.lists(text, min_size=min_size, max_size=max_size)


def some(**parts: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A component dict with at least one of its parts."""
    return st.fixed_dictionaries({}, optional=parts).filter(bool)


subjects = st.fixed_dictionaries({"description": text}, optional={"attributes": texts()})
scenes = some(environment=text, lighting=text, time_of_day=text, weather=text)
styles = some(look=text, medium=text, lens=text, film=texts(min_size=1))
cameras = some(moves=texts(min_size=1), framing=text, lens=text)
events = st.lists(
    st.tuples(st.sampled_from([0, 1, 1.5, 2.25, 3]), text).map(list), min_size=1, max_size=2
)
motions = some(
    directives=texts(min_size=1),
    sequence=texts(max_size=3, min_size=1),
    layers=some(foreground=text, midground=text, background=text),
    events=events,
)
lines = st.lists(
    st.fixed_dictionaries(
        {"speaker": st.sampled_from(["anna", "Ben", "the old man"]), "text": text},
        optional={"tone": text, "link": st.sampled_from(["then", "immediately"])},
    ),
    max_size=3,
)
terms = st.lists(text.filter(lambda s: "+" not in s), max_size=2)
elements = st.lists(
    st.fixed_dictionaries({"frontal_image_url": url}, optional={"label": text}), max_size=2
)
image = st.fixed_dictionaries({"url": url}, optional={"label": text})
images = st.lists(image, max_size=2)


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    mode = draw(
        st.sampled_from(
            [
                "text-to-video",
                "image-to-video",
                "reference-to-video",
                "motion-control",
                "video-edit",
                "multi-shot",
            ]
        )
    )
    data: dict[str, Any] = {"mode": mode}

    def maybe(key: str, strategy: st.SearchStrategy[Any]) -> None:
        value = draw(st.none() | strategy)
        if value not in (None, [], {}):
            data[key] = value

    maybe("scene", scenes)
    maybe("style", styles)
    maybe("camera", cameras)
    maybe("emphasis", terms)
    maybe("negative_prompt", text)
    generating = mode not in ("motion-control", "video-edit")
    if generating:
        maybe("duration", st.integers(3, 15) if mode != "multi-shot" else st.none())
        maybe("generate_audio", st.just(True))
    if mode in ("text-to-video", "reference-to-video", "image-to-video"):
        data["subject"] = draw(subjects)
        maybe("motion", motions)
        maybe("dialogue", lines)
        maybe("aspect_ratio", st.sampled_from(["16:9", "9:16", "1:1"]))
    if mode == "text-to-video":
        maybe("camera", cameras.map(lambda c: {**c, "control": "forward_up"}))
    if mode == "image-to-video":
        data["start_image"] = draw(url)
        maybe("end_image", url)
        maybe("elements", elements)
    if mode == "reference-to-video":
        data["reference_images"] = draw(st.lists(image, min_size=1, max_size=2))
        maybe("elements", elements)
    if mode == "motion-control":
        data["character_image"] = draw(url)
        data["video"] = draw(video_url)
        data["character_orientation"] = draw(st.sampled_from(["image", "video"]))
        maybe("subject", subjects)
        maybe("keep_sound", st.booleans())
    if mode == "video-edit":
        data["video"] = draw(video_url)
        data["edit"] = draw(text)
        maybe("keep", texts(min_size=1))
        maybe("subject", subjects)
        maybe("motion", motions)
        maybe("reference_images", images)
    if mode == "multi-shot":
        maybe("subject", subjects)
        shot = st.fixed_dictionaries(
            {"duration": st.integers(3, 5), "motion": motions},
            optional={
                "subject": subjects,
                "scene": scenes,
                "style": styles,
                "dialogue": lines,
                "emphasis": terms,
            },
        )
        data["shots"] = draw(st.lists(shot, min_size=1, max_size=3))
    return data


ROLES = (
    "start_image",
    "end_image",
    "reference_images",
    "video",
    "character_image",
    "elements",
    "voices",
    "element_voices",
    "multi_prompt",
    "audio",
    "duration",
    "aspect_ratio",
    "negative_prompt",
    "camera_control",
    "character_orientation",
    "keep_sound",
    "shot_type",
)
ALL_ROLES = {role: role for role in ROLES}


@contextmanager
def permissive_catalog() -> Any:
    """A catalog that accepts every role, so these tests exercise rendering, not routing."""
    info = SimpleNamespace(id="test/endpoint", roles=ALL_ROLES, duration_value=str)
    route = SimpleNamespace(endpoint="test/endpoint", reasons=[], alternatives=[], info=info)
    catalog = SimpleNamespace(route=lambda **_: route, get=lambda _: info)
    original = R._catalog_api
    R._catalog_api = lambda: catalog
    try:
        yield
    finally:
        R._catalog_api = original


def comparable(value: str) -> str:
    """What normalization may do to a value: whitespace, edge punctuation, first capital."""
    value = re.sub(r"\s+", " ", value)
    value = re.sub(rf" (?=[{PUNCT}])", "", value)
    return value.strip(PUNCT + " ").casefold()


def value_at(spec: PromptSpec, path: str) -> str:
    current: Any = spec
    for name, index in re.findall(r"(\w+)|\[(\d+)\]", path):
        current = getattr(current, name) if name else current[int(index)]
    if isinstance(current, float | int):
        return str(R.format_seconds(current))
    assert isinstance(current, str)
    return current


def texts_of(request: Request) -> dict[str, str]:
    return dict(request.text_fields())


@SETTINGS
@given(specs())
def test_spec_round_trips(data: dict[str, Any]) -> None:
    spec = load_spec(data)
    assert PromptSpec.model_validate(spec.model_dump()) == spec
    assert PromptSpec.model_validate_json(spec.model_dump_json()) == spec


@SETTINGS
@given(specs())
def test_render_is_total_and_deterministic(data: dict[str, Any]) -> None:
    spec = load_spec(data)
    with permissive_catalog():
        first = R.render(spec)
        second = R.render(spec)
        again = R.render(first.spec)
    assert first.arguments == second.arguments
    assert first.source_map.to_list() == second.source_map.to_list()
    assert again.arguments == first.arguments
    assert None not in first.arguments.values()
    for field, value in texts_of(first).items():
        assert value == value.strip()
        assert "  " not in value
        assert not re.search(rf" [{PUNCT}]", value)
        if field != "negative_prompt":
            assert re.search(rf"[{re.escape(PUNCT[1:])}][\"')\]]*$", value), value


@SETTINGS
@given(specs())
def test_source_map_spans_match_their_fields(data: dict[str, Any]) -> None:
    spec = load_spec(data)
    with permissive_catalog():
        request = R.render(spec)
    fields = texts_of(request)
    known = dict(iter_text_fields(spec))
    for field in request.source_map.fields():
        text = fields[field]
        spans = sorted(request.source_map.spans(field), key=lambda s: s.start)
        for before, after in itertools.pairwise(spans):
            assert before.end <= after.start
        for span in spans:
            assert 0 <= span.start < span.end <= len(text)
            path = span.origin.field
            assert path is not None
            assert path in known or path.endswith("at_seconds")
            assert comparable(text[span.start : span.end]) == comparable(value_at(spec, path))


@SETTINGS
@given(specs())
def test_punctuation_runs_have_one_owner(data: dict[str, Any]) -> None:
    """Doubled punctuation never survives where two parts meet."""
    with permissive_catalog():
        request = R.render(load_spec(data))
    for field, text in texts_of(request).items():
        owner = ["glue"] * len(text)
        for n, span in enumerate(request.source_map.spans(field)):
            for i in range(span.start, span.end):
                owner[i] = f"span{n}"
        for run in re.finditer(rf"[{PUNCT}](?: ?[{PUNCT}])*", text):
            owners = {owner[i] for i in range(run.start(), run.end()) if text[i] != " "}
            assert len(owners) == 1, (text, run.group(0))
