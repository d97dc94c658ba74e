"""Audio and dialogue rules (KP501–KP510) and the offline language detector."""

from __future__ import annotations

from typing import Any

import pytest

from kling_prompt.linter import Linter
from kling_prompt.linter.checks.audio import dialogue, speaker_name, spoken_words
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.language import detect_language, script_counts
from kling_prompt.linter.text import Analysis
from kling_prompt.request import Request

V26 = "fal-ai/kling-video/v2.6/pro/text-to-video"
V3 = "fal-ai/kling-video/v3/pro/text-to-video"


@pytest.fixture(scope="module")
def linter() -> Linter:
    return Linter()


def codes(linter: Linter, prompt: str, endpoint: str = V3, **arguments: Any) -> list[Diagnostic]:
    return linter.lint(Request(endpoint, {"prompt": prompt, **arguments}))


def only(diagnostics: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.code == code]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Good evening, have you chosen a table?", "en"),
        ("你说我们这场婚礼会不会太过简单了", "zh"),
        ("こんにちは、元気ですか？", "ja"),
        ("東京に行きたいです", "ja"),
        ("안녕하세요 여러분", "ko"),
        ("Добрый вечер, друзья.", "ru"),
        ("مرحبا بكم في المدينة", "ar"),
        ("Bonjour, je suis votre serveur et nous avons une table.", "fr"),
        ("Hola, ¿cómo estás? Estoy muy bien, gracias.", "es"),
        ("Ich bin nicht hier, aber sie ist noch da.", "de"),
        ("Eu não sei, mas você está muito bem.", "pt"),
        ("Io sono qui e non ho paura, grazie.", "it"),
        ("Yes.", None),
        ("Ciao!", None),
        ("", None),
        ("12345 !!!", None),
    ],
)
def test_detect_language(text: str, language: str | None) -> None:
    assert detect_language(text) == language


def test_script_counts() -> None:
    assert script_counts("abc 你好") == {"latin": 3, "han": 2}
    assert script_counts("123 ...") == {}


def test_dialogue_parse_labels_verbs_and_text(linter: Linter) -> None:
    a = Analysis(
        '[Host, warm voice] says: "Welcome." A banner reading "Live" hangs. '
        'Then he says: "Sit down." "Run!" she shouts.',
        matcher=linter.matcher,
    )
    lines = dialogue(a)
    assert [line.how for line in lines] == ["label", "text", "verb", "verb"]
    assert lines[0].speaker == "host"
    assert lines[2].pronoun
    assert lines[3].pronoun
    assert not lines[0].pronoun


def test_speaker_name_normalises_labels() -> None:
    assert speaker_name("Guard A@My College Friend’s Voice") == "guard a"
    assert speaker_name("Character A: Lead Detective, calm voice") == "lead detective"
    assert speaker_name("<<<voice_1>>> Narrator, low voice") == "narrator"
    assert speaker_name("@Female Narrator Voice") == "@female narrator voice"


def test_spoken_words_counts_cjk_as_half_words() -> None:
    assert spoken_words("Hello there, friend!") == 3
    assert spoken_words("你好世界") == 2


def test_kp501_uses_the_catalog_default(linter: Linter) -> None:
    line = '[Guide, calm voice] says: "Welcome to the museum."'
    o3 = "fal-ai/kling-video/o3/pro/text-to-video"
    assert only(codes(linter, line, o3), "KP501")  # O3 defaults to no audio
    assert not only(codes(linter, line, o3, generate_audio=True), "KP501")
    assert not only(codes(linter, line, V26), "KP501")  # 2.6 defaults to audio on
    assert only(codes(linter, line, V26, generate_audio=False), "KP501")


def test_dialogue_rules_stay_silent_when_audio_is_off(linter: Linter) -> None:
    text = '[A] says: "Hi." [B] says: "Hey." [C] says: "Yo."'
    found = {d.code for d in codes(linter, text, V26, generate_audio=False)}
    assert "KP501" in found
    assert not found & {"KP505", "KP509"}


def test_kp509_is_a_warning_on_v26(linter: Linter) -> None:
    text = '[Anna] says: "Hi." Then, [Ben] says: "Hey." Then, [Carl] says: "Hello."'
    assert [d.severity for d in only(codes(linter, text, V3), "KP509")] == ["info"]
    assert [d.severity for d in only(codes(linter, text, V26, duration="10"), "KP509")] == [
        "warning"
    ]


def test_kp508_uses_shot_duration(linter: Linter) -> None:
    line = '[Host] says: "Welcome back to the show, today we have a very special guest with us."'
    shots = [{"prompt": line, "duration": "3"}, {"prompt": "A studio.", "duration": "7"}]
    found = only(linter.lint(Request(V3, {"multi_prompt": shots, "duration": "10"})), "KP508")
    assert [d.field for d in found] == ["multi_prompt[0].prompt"]


def test_kp506_family_table(linter: Linter) -> None:
    line = '[Chica] dice: "Hola, ¿cómo estás? Estoy muy bien, gracias."'
    assert only(codes(linter, line, V26), "KP506")
    assert not only(codes(linter, line, V3), "KP506")
