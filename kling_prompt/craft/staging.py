"""The iterative workflow: one spec split into stages a user runs in order.

Stage 1 checks the motion with a minimal prompt (in motion control, a placeholder character
"a person performing"), stage 2 adds the identity (subject, emphasis), stage 3 the environment
(scene, camera), stage 4 the style (style, presets, physics, stability cues). Media, settings and
the negative prompt are the same in every stage, so only the prompt changes. A stage that adds
nothing to the one before is left out.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kling_prompt.errors import SpecError

if TYPE_CHECKING:
    from kling_prompt.build import _Builder
    from kling_prompt.request import Request
    from kling_prompt.spec import PromptSpec

__all__ = ["STAGES", "stage_specs", "staged", "write_stages"]

STAGES: tuple[tuple[str, frozenset[str]], ...] = (
    ("stage1-motion", frozenset({"motion", "dialogue", "edit", "edits", "keep"})),
    ("stage2-identity", frozenset({"subject", "emphasis"})),
    ("stage3-environment", frozenset({"scene", "camera"})),
    ("stage4-style", frozenset({"style", "physics", "stability"})),
)
_LAYERED = frozenset().union(*(fields for _, fields in STAGES))


def _as_spec(source: PromptSpec | _Builder | Request) -> PromptSpec:
    from kling_prompt.request import Request
    from kling_prompt.spec import PromptSpec

    if isinstance(source, PromptSpec):
        return source
    if isinstance(source, Request):
        if isinstance(source.spec, PromptSpec):
            return source.spec
        raise SpecError(
            "staged: this request was not rendered from a spec, so it has no layers to stage; "
            "use a builder, a YAML/JSON spec or a .prompt file with a spec: key"
        )
    return source.spec()


def stage_specs(source: PromptSpec | _Builder | Request) -> list[tuple[str, PromptSpec]]:
    """The stage specs of ``source``, in the order to run them."""
    from kling_prompt.craft.data import phrase
    from kling_prompt.spec import load_spec

    spec = _as_spec(source)
    if spec.mode == "multi-shot":
        raise SpecError(
            "mode: staging works on one prompt; a multi-shot spec keeps its parts in the shots, "
            "so stage each shot as its own text-to-video spec"
        )
    full = spec.model_dump(exclude_defaults=True)
    fixed = {k: v for k, v in full.items() if k not in _LAYERED}
    fixed["mode"] = spec.mode
    out: list[tuple[str, PromptSpec]] = []
    layered: dict[str, Any] = {}
    pending: list[str] = []
    for name, fields in STAGES:
        layered.update({k: v for k, v in full.items() if k in fields})
        data = {**fixed, **layered}
        if name == "stage1-motion" and spec.mode == "motion-control" and spec.subject:
            data["subject"] = phrase("minimal_subject")
        try:
            stage = load_spec(data)
        except SpecError:
            pending.append(name)  # not a prompt on its own yet: merge it into the next stage
            continue
        label = pending[0] if pending else name
        pending = []
        if out and out[-1][1] == stage:
            continue
        out.append((label, stage))
    return out


def staged(source: PromptSpec | _Builder | Request) -> list[tuple[str, Request]]:
    """The staged requests of ``source``: ``[("stage1-motion", request), ...]``.

    Each request is rendered like a builder's (time marks are checked, KP804).
    """
    from kling_prompt.craft.checks import check_time_marks
    from kling_prompt.rendering import render

    out: list[tuple[str, Request]] = []
    endpoint: str | None = None
    for name, spec in stage_specs(source):
        if endpoint is not None and spec.endpoint is None:
            spec = spec.model_copy(update={"endpoint": endpoint})
        request = render(spec)
        check_time_marks(request)
        endpoint = endpoint or request.endpoint
        out.append((name, request))
    return out


def write_stages(
    source: PromptSpec | _Builder | Request,
    name: str,
    out: str | os.PathLike[str],
    *,
    jsonl: bool = False,
) -> list[Path]:
    """Write the stages as prompt files ``name.stage1-motion.prompt`` ... in folder ``out``,
    or with ``jsonl`` as one JSON Lines file ``out`` (one payload record per stage).

    When ``out`` holds ``name.prompt``, the files are variants of it: keys of the base that a
    stage does not use are written as ``null`` so the merged variant is exactly the stage.
    """
    stages = staged(source)
    target = Path(out)
    if jsonl:
        lines = [
            json.dumps(
                {
                    "id": f"{name}.{stage}",
                    "endpoint": request.endpoint,
                    "mode": request.mode,
                    "arguments": request.arguments,
                },
                ensure_ascii=False,
            )
            for stage, request in stages
        ]
        if target.parent != Path():
            target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return [target]
    target.mkdir(parents=True, exist_ok=True)
    base_file = target / f"{name}.prompt"
    base = read_front_matter(base_file) if base_file.is_file() else None
    written: list[Path] = []
    for i, (stage, request) in enumerate(stages, 1):
        spec = request.spec
        data = spec.model_dump(mode="json", exclude_defaults=True)
        for key in ("endpoint", "family", "tier"):
            data.pop(key, None)
        doc: dict[str, Any] = {
            "model": request.endpoint,
            "metadata": {
                "description": (
                    f"Stage {i} of {len(stages)} of {name} ({stage.split('-', 1)[1]}); "
                    "run the stages in order and add the next layer once this one works."
                ),
                "tags": ["staged", stage],
            },
            "spec": data,
        }
        if base is not None:
            doc = override(base, doc)
        path = target / f"{name}.{stage}.prompt"
        path.write_text(prompt_file_text(doc), encoding="utf-8")
        written.append(path)
    return written


def read_front_matter(path: Path) -> dict[str, Any]:
    """The front matter of a prompt file as plain data (empty when it has none)."""
    import yaml

    text = path.read_text(encoding="utf-8")
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    data = yaml.safe_load(text[3:end])
    return data if isinstance(data, dict) else {}


def override(base: Mapping[str, Any], desired: Mapping[str, Any]) -> dict[str, Any]:
    """Front matter that, deep-merged over ``base`` (the variant rules), gives ``desired``."""
    out: dict[str, Any] = {}
    for key, value in desired.items():
        old = base.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            out[key] = override(old, value)
        else:
            out[key] = value
    for key in base:
        if key not in desired:
            out[key] = None
    return out


def prompt_file_text(front_matter: Mapping[str, Any], body: str = "") -> str:
    """A prompt file: YAML front matter between ``---`` lines, then the body."""
    import yaml

    header = yaml.safe_dump(
        dict(front_matter), sort_keys=False, allow_unicode=True, width=100
    ).rstrip("\n")
    text = f"---\n{header}\n---\n"
    if body:
        text += body.rstrip("\n") + "\n"
    return text
