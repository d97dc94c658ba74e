"""Style presets: data-driven phrases, refusal of contradicting presets, KP801 on the result."""

from __future__ import annotations

import pytest

from kling_prompt import Prompt
from kling_prompt.craft import categories, presets
from kling_prompt.craft.checks import lint_rule
from kling_prompt.errors import SpecError
from kling_prompt.resources import templates_dir
from kling_prompt.spec import load_spec


def t2v() -> Prompt:
    return Prompt.text_to_video().subject("a lighthouse keeper").motion("he climbs the stairs")


def test_presets_come_from_the_yaml_file() -> None:
    assert (templates_dir() / "presets" / "styles.yaml").is_file()
    table = presets()
    for name in ("anime", "photorealistic", "cinematic", "documentary", "35mm-film"):
        assert name in table
    for name in ("24mm", "f2.8", "anamorphic", "shallow-dof"):
        assert name in table
    assert all(p.category in categories() for p in table.values())
    assert table["photorealistic"].phrases == ("photorealistic with film grain",)


def test_preset_adds_its_phrases_with_a_source_map() -> None:
    request = t2v().preset("anime").render()
    assert "Rendered in anime style, clean cel-shaded linework." in (request.prompt or "")
    origins = {span.origin.field for span in request.source_map}
    assert "style.presets[0]" in origins


def test_several_technical_presets_combine() -> None:
    text = t2v().preset("35mm-film", "shallow-dof").preset("f2.8", "24mm", "anamorphic").text()
    for phrase in ("shot on 35mm film", "shallow depth of field", "f/2.8", "24mm", "anamorphic"):
        assert phrase in text.lower()


def test_builder_is_unchanged_by_preset() -> None:
    base = t2v()
    base.preset("anime")
    assert "style" not in base.spec().model_dump(exclude_defaults=True)


@pytest.mark.parametrize(
    ("first", "second"),
    [("anime", "photorealistic"), ("black-and-white", "vibrant"), ("35mm-film", "anime")],
)
def test_contradicting_presets_are_refused_naming_both(first: str, second: str) -> None:
    with pytest.raises(SpecError) as info:
        t2v().preset(first).preset(second)
    assert first in str(info.value)
    assert second in str(info.value)
    assert str(info.value).startswith("style.presets")


def test_preset_against_own_style_words_uses_kp801() -> None:
    with pytest.raises(SpecError, match=r"KP801"):
        t2v().style("photorealistic look").preset("anime")
    assert lint_rule("photorealistic look, rendered in anime style", "KP801")


def test_unknown_preset_suggests_the_nearest() -> None:
    with pytest.raises(SpecError, match="did you mean 'anime'"):
        t2v().preset("animee")


def test_spec_files_accept_presets_and_refuse_clashes() -> None:
    spec = load_spec({"subject": "a cat", "style": {"presets": ["documentary", "16mm-film"]}})
    assert spec.style is not None
    assert spec.style.presets == ("documentary", "16mm-film")
    with pytest.raises(SpecError, match=r"'shallow-dof'.*'f8'"):
        load_spec({"subject": "a cat", "style": {"presets": ["shallow-dof", "f8"]}})
