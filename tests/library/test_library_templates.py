"""Partials, variants, variables and suppressions in prompt files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from kling_prompt.library import compile_file, find_root, render_file
from kling_prompt.linter.diagnostic import Diagnostic

Write = Callable[[str, str], Path]
Lint = Callable[[Path | str], list[Diagnostic]]

HEAD = """\
---
model: fal-ai/kling-video/v3/pro/text-to-video
config: {duration: "5", generate_audio: false, negative_prompt: "blur, distortion"}
input:
  schema: {city: string}
  default: {city: Lisbon}
---
"""
BODY = "A yellow tram climbs a steep street in {{ city }}, then stops as the camera tracks alongside.\n"


def codes(diagnostics: list[Diagnostic]) -> list[str]:
    return sorted(d.code for d in diagnostics)


def test_include_and_partial_render_with_the_callers_variables(write: Write) -> None:
    write("_look.prompt", "---\nmetadata: {description: look}\n---\nShot on film in {{ city }}.\n")
    write("shared/_mood.prompt", "Quiet {{ tone }} mood.\n")
    path = write(
        "t2v/tram.prompt",
        HEAD + BODY + '{% include "_look.prompt" %} {{ partial("shared/mood", tone="calm") }}\n',
    )
    request = render_file(path)
    assert request.prompt == (
        "A yellow tram climbs a steep street in Lisbon, then stops as the camera tracks alongside. "
        "Shot on film in Lisbon. Quiet calm mood."
    )
    look = [
        s
        for s in request.source_map.spans("prompt")
        if s.origin.path and s.origin.path.endswith("_look.prompt")
    ]
    assert look
    assert look[0].origin.line == 4
    assert look[0].origin.verbatim


def test_nearest_partial_wins(write: Write) -> None:
    write("_look.prompt", "Root look.\n")
    write("t2v/_look.prompt", "Local look.\n")
    path = write("t2v/tram.prompt", HEAD + BODY + "{{ partial('look') }}\n")
    assert render_file(path).prompt.endswith("Local look.")  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["../_outside.prompt", "/etc/passwd", "../../_outside.prompt"])
def test_partials_cannot_escape_the_library(write: Write, lib: Path, name: str) -> None:
    (lib.parent / "_outside.prompt").write_text("secret", encoding="utf-8")
    path = write("tram.prompt", HEAD + BODY + f'{{% include "{name}" %}}\n')
    result = compile_file(path)
    assert [p.code for p in result.problems] == ["KP001"]
    problem = result.problems[0]
    assert problem.loc is not None
    assert problem.loc.line == 9
    assert "library folder" in problem.message
    assert result.requests == []


def test_symlinked_partial_outside_the_library_is_refused(write: Write, lib: Path) -> None:
    outside = lib.parent / "elsewhere.prompt"
    outside.write_text("secret", encoding="utf-8")
    os.symlink(outside, lib / "_link.prompt")
    path = write("tram.prompt", HEAD + BODY + '{{ partial("link") }}\n')
    result = compile_file(path)
    assert [p.code for p in result.problems] == ["KP001"]
    assert "outside the library folder" in result.problems[0].message


def test_only_partials_can_be_included(write: Write) -> None:
    write("other.prompt", HEAD + BODY)
    path = write("tram.prompt", HEAD + BODY + '{% include "other.prompt" %}\n')
    result = compile_file(path)
    assert "only files named _name.prompt" in result.problems[0].message


def test_dynamic_escape_is_refused_at_render(write: Write) -> None:
    path = write(
        "tram.prompt",
        HEAD.replace("{city: string}", "{city: string, part: string}").replace(
            "{city: Lisbon}", '{city: Lisbon, part: "../x.prompt"}'
        )
        + BODY
        + "{% include part %}\n",
    )
    result = compile_file(path)
    assert [p.code for p in result.problems] == ["KP001"]
    assert result.problems[0].loc is not None
    assert result.problems[0].loc.line == 9


def test_variant_merges_front_matter_and_replaces_the_body(write: Write) -> None:
    write("tram.prompt", HEAD + BODY)
    night = write(
        "tram.night.prompt",
        "---\nconfig: {aspect_ratio: '9:16', negative_prompt: null}\n---\nA tram at night in {{ city }} glides downhill as the camera pans.\n",
    )
    same = write("tram.same.prompt", "---\nconfig: {duration: '10'}\n---\n\n")
    request = render_file(night)
    assert request.arguments == {
        "duration": "5",
        "generate_audio": False,
        "aspect_ratio": "9:16",
        "prompt": "A tram at night in Lisbon glides downhill as the camera pans.",
    }
    inherited = render_file(same)
    assert inherited.arguments["duration"] == "10"
    assert inherited.prompt
    assert inherited.prompt.startswith("A yellow tram")
    # positions of the inherited body point into the base file
    first = inherited.source_map.spans("prompt")[0].origin
    assert first.path is not None
    assert first.path.endswith("tram.prompt")
    assert first.line == 8


def test_dotted_name_without_base_is_standalone(write: Write) -> None:
    path = write("v1.5-look.prompt", HEAD + BODY)
    assert render_file(path).prompt


def test_undefined_and_unused_variables_at_their_lines(write: Write, lint: Lint) -> None:
    path = write(
        "vars.prompt",
        """\
        ---
        model: fal-ai/kling-video/v3/pro/text-to-video
        input:
          schema:
            city: string
            spare?: string
          default: {city: Lisbon}
        ---
        A tram climbs a street in {{ city }} as the camera tracks it.
        It stops by {{ sity }}.
        """,
    )
    found = sorted(
        (d for d in lint(path) if d.code in ("KP002", "KP003")), key=lambda d: d.line or 0
    )
    assert [(d.code, d.severity, d.line, d.column) for d in found] == [
        ("KP003", "warning", 6, 5),
        ("KP002", "error", 10, 16),
    ]


def test_missing_value_is_kp002_and_the_example_is_skipped(write: Write, lint: Lint) -> None:
    path = write(
        "missing.prompt",
        """\
        ---
        model: fal-ai/kling-video/v3/pro/text-to-video
        input:
          schema: {city: string, weather: string}
          default: {city: Lisbon}
        examples:
          ok: {vars: {weather: rain}}
          incomplete: {vars: {city: Porto}}
        ---
        A tram climbs a street in {{ city }} in {{ weather }} as the camera tracks it.
        """,
    )
    result = compile_file(path)
    assert [r.name for r in result.requests] == ["ok"]
    [problem] = result.problems
    assert problem.code == "KP002"
    assert problem.loc is not None
    assert problem.loc.line == 8
    assert "weather" in problem.message


def test_without_examples_missing_default_points_at_the_schema(write: Write) -> None:
    path = write(
        "nodefault.prompt",
        "---\nmodel: fal-ai/kling-video/v3/pro/text-to-video\ninput:\n  schema:\n    city: string\n---\n{{ city }} streets.\n",
    )
    [problem] = compile_file(path).problems
    assert (problem.code, problem.loc.line if problem.loc else None) == ("KP002", 5)


def test_unmet_expect_fails_the_run(write: Write, lint: Lint) -> None:
    path = write(
        "expect.prompt",
        """\
        ---
        model: fal-ai/kling-video/v3/pro/motion-control
        config:
          image_url: https://example.com/a.png
          video_url: https://example.com/a.mp4
          character_orientation: video
        input:
          schema: {move: string}
        examples:
          dancing:
            vars: {move: dancing energetically with spins and jumps}
            expect: [KP301]
          calm:
            vars: {move: standing on a rooftop at sunset in warm light}
            expect: [KP301]
        ---
        The woman from the image {{ move }}, cinematic color grade.
        """,
    )
    found = lint(path)
    unmet = [d for d in found if d.code == "KP004"]
    assert len(unmet) == 1
    assert unmet[0].severity == "error"
    assert unmet[0].line == 15
    assert unmet[0].record == "calm"
    assert not [d for d in found if d.code == "KP301"]


def test_suppression_comments_cover_file_lines(write: Write, lint: Lint) -> None:
    text = HEAD + (
        "A woman walks across a rooftop in {{ city }} as the camera pans left.\n"
        "{# kp-ignore-next-line: KP407 -- testing #}\n"
        "masterpiece, best quality, 8k, ultra detailed.\n"
        "(sunset:1.3) glow.\n"
    )
    path = write("quiet.prompt", text)
    found = [d for d in lint(path) if d.code in ("KP407", "KP004")]
    assert [(d.code, d.line) for d in found] == [("KP407", 11)]
    path.write_text(text.replace("KP407 -- testing", "KP903"), encoding="utf-8")
    found = [d for d in lint(path) if d.code in ("KP407", "KP004")]
    assert {(d.code, d.line) for d in found} == {("KP004", 10), ("KP407", 10), ("KP407", 11)}


def test_syntax_error_is_kp001_at_the_file_line(write: Write) -> None:
    path = write("broken.prompt", HEAD + "A tram in {{ city }}.\nIt stops {% if city %} here.\n")
    [problem] = compile_file(path).problems
    assert problem.code == "KP001"
    assert problem.loc is not None
    assert problem.loc.line == 9


def test_library_root_is_the_config_folder(lib: Path, write: Write, tmp_path: Path) -> None:
    path = write("deep/er/x.prompt", HEAD + BODY)
    assert find_root(path) == lib.resolve()
    lone = tmp_path / "lone" / "y.prompt"
    lone.parent.mkdir()
    lone.write_text(HEAD + BODY, encoding="utf-8")
    assert find_root(lone) == lone.parent.resolve()


def test_partial_files_are_not_linted_as_prompts(write: Write, lint: Lint) -> None:
    path = write("_part.prompt", "Shot on film in {{ city }}.\n")
    assert lint(path) == []
    bad = write("_bad.prompt", "Shot {% if %}.\n")
    assert codes(lint(bad)) == ["KP001"]


def test_plain_body_does_not_import_jinja(write: Write) -> None:
    import subprocess
    import sys

    path = write(
        "plain.prompt", "---\nmodel: fal-ai/kling-video/v3/pro/text-to-video\n---\nA fox runs.\n"
    )
    code = (
        "import sys\n"
        "from kling_prompt.linter.config import Config\n"
        "from kling_prompt.linter.inputs import load\n"
        f"loaded = load({str(path)!r}, config=Config())\n"
        "assert loaded.items and not loaded.errors\n"
        "print('jinja2' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
