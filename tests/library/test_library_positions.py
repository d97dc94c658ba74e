"""Diagnostics from prompt files point at the right line and column of the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kling_prompt.library import compile_text
from kling_prompt.linter.diagnostic import Diagnostic

Write = Callable[[str, str], Path]
Lint = Callable[[Path | str], list[Diagnostic]]

HEAD = """\
---
model: fal-ai/kling-video/v3/pro/text-to-video
config:
  duration: "5"
  generate_audio: false
  negative_prompt: blur, no text
input:
  schema: {city: string}
  default: {city: Lisbon}
---
"""


def test_long_body_kp101_points_into_the_body(write: Write, lint: Lint) -> None:
    line = "A tram climbs a steep street in {{ city }} as the camera tracks it slowly uphill.\n"
    body = line * 40  # about 2,900 characters once rendered
    path = write("long.prompt", HEAD + body)
    [kp101] = [d for d in lint(path) if d.code == "KP101"]
    rendered = compile_text(str(path), path.read_text()).requests[0].request.prompt
    assert rendered is not None
    assert len(rendered) > 2500
    # character 2500 of the prompt: find which template line and column hold it
    per_line = len(
        line.replace("{{ city }}", "Lisbon")
    )  # each template line plus the joining space
    index = 2500 // per_line
    offset = 2500 - index * per_line
    assert kp101.line == 11 + index
    template_column = offset + 1 if offset < line.index("{{") else None
    if template_column is not None:
        assert kp101.column == template_column


def test_bad_duration_points_at_the_config_line(write: Write, lint: Lint) -> None:
    path = write(
        "dur.prompt",
        HEAD.replace('duration: "5"', 'duration: "7s"')
        + "A tram in {{ city }} climbs as the camera pans.\n",
    )
    [kp106] = [d for d in lint(path) if d.code == "KP106"]
    assert (kp106.filename, kp106.line, kp106.column) == (str(path), 4, 14)


def test_negative_prompt_problem_points_inside_the_yaml_scalar(write: Write, lint: Lint) -> None:
    path = write("neg.prompt", HEAD + "A tram in {{ city }} climbs as the camera pans.\n")
    [kp601] = [d for d in lint(path) if d.code == "KP601"]
    assert (kp601.line, kp601.column) == (6, 26)


def test_variable_output_points_at_its_expression(write: Write) -> None:
    path = write("var.prompt", HEAD + "In {{ city }} a tram climbs.\n")
    request = compile_text(str(path), path.read_text()).requests[0].request
    origin, line, column = request.source_map.position("prompt", 4, request.prompt or "")
    assert (line, column) == (11, 4)
    assert not origin.verbatim
    origin, line, column = request.source_map.position("prompt", 12, request.prompt or "")
    assert (line, column) == (11, 17)
    assert origin.verbatim


def test_unknown_endpoint_points_at_model(write: Write, lint: Lint) -> None:
    path = write(
        "ep.prompt",
        HEAD.replace("v3/pro/text-to-video", "v3/pro/text-to-vidoe")
        + "A tram in {{ city }} climbs as the camera pans.\n",
    )
    found = [d for d in lint(path) if d.line == 2]
    assert found, lint(path)


def test_literal_block_shot_prompt_maps_line_by_line(write: Write) -> None:
    path = write(
        "shots.prompt",
        """\
        ---
        model: fal-ai/kling-video/v3/pro/text-to-video
        config: {generate_audio: false}
        shots:
          - duration: 3
            prompt: |
              A red fox trots across a meadow,
              then stops and looks up.
          - duration: 2
            prompt: The fox leaps into the tall grass as the camera follows.
        ---
        """,
    )
    request = compile_text(str(path), path.read_text()).requests[0].request
    assert request.arguments["duration"] == "5"
    assert request.arguments["shot_type"] == "customize"
    text = request.arguments["multi_prompt"][0]["prompt"]
    assert text == "A red fox trots across a meadow, then stops and looks up."
    _, line, column = request.source_map.position(
        "multi_prompt[0].prompt", text.index("then"), text
    )
    assert (line, column) == (8, 7)
    second = request.arguments["multi_prompt"][1]["prompt"]
    _, line, column = request.source_map.position(
        "multi_prompt[1].prompt", second.index("leaps"), second
    )
    assert (line, column) == (10, 13 + second.index("leaps"))


@given(st.lists(st.text("abc xyz,.", min_size=1, max_size=30), min_size=1, max_size=8))
@settings(max_examples=100, deadline=None)
def test_verbatim_spans_match_the_file(lines: list[str]) -> None:
    text = HEAD + "{{ city }} " + "\n".join(lines) + "\n"
    result = compile_text("p.prompt", text)
    if not result.requests:
        return
    request = result.requests[0].request
    prompt = request.prompt or ""
    file_lines = text.split("\n")
    for span in request.source_map.spans("prompt"):
        assert 0 <= span.start <= span.end <= len(prompt)
        if span.origin.verbatim and span.origin.line is not None and span.origin.column is not None:
            source_line = file_lines[span.origin.line - 1]
            start = span.origin.column - 1
            assert (
                source_line[start : start + span.end - span.start] == prompt[span.start : span.end]
            )
