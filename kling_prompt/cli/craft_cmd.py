"""Prompt-craft commands: ``presets``, ``stages`` and ``troubleshoot``.

``kling-prompt stages FILE --out DIR`` writes the iterative-workflow stages of a spec as prompt
files (``name.stage1-motion.prompt`` ...) or, with ``--jsonl``, as one JSON Lines file.
``kling-prompt troubleshoot SYMPTOM [FILE]`` lists the guide's fixes for a symptom as concrete
changes to FILE's request; ``--apply N`` (or ``all``) writes the changed request.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kling_prompt.request import Request

_SYMPTOMS = (
    "motion-distortion",
    "object-morphing",
    "visual-coherence",
    "identity-loss",
    "motion-not-transferring",
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    presets = subparsers.add_parser(
        "presets",
        help="list the style presets for Prompt.preset() and style.presets",
        description="List the style presets: category, phrases and what each conflicts with.",
    )
    presets.add_argument("--json", action="store_true", help="print them as JSON")
    presets.set_defaults(func=run_presets)

    stages = subparsers.add_parser(
        "stages",
        help="write a spec's iterative-workflow stages (motion, identity, environment, style)",
        description=(
            "Split a spec into the stages of the iterative workflow: a minimal motion check, then "
            "+ identity, + environment, + style. Writes NAME.stage1-motion.prompt ... into --out, "
            "or one JSON Lines file with --jsonl; without either, prints the stage prompts."
        ),
    )
    stages.add_argument(
        "file", metavar="FILE", help="a YAML/JSON spec or a .prompt file with spec:"
    )
    stages.add_argument("--out", metavar="DIR", help="folder for the stage prompt files")
    stages.add_argument("--jsonl", metavar="FILE", help="write the stages as JSON Lines instead")
    stages.add_argument("--name", help="base name of the stage files (default: FILE's name)")
    stages.add_argument("--example", metavar="NAME", help="(.prompt) stage this example")
    stages.set_defaults(func=run_stages)

    trouble = subparsers.add_parser(
        "troubleshoot",
        help="turn a symptom (motion-distortion, identity-loss, ...) into changes to a request",
        description=(
            "List the fixes for SYMPTOM. With FILE (a prompt file, spec or JSON payload) they are "
            "concrete changes to its request, numbered; --apply N or --apply all makes them and "
            "prints the changed request, or writes it with --out (.json, .jsonl, .prompt, .yaml)."
        ),
    )
    trouble.add_argument("symptom", metavar="SYMPTOM", choices=_SYMPTOMS, help=", ".join(_SYMPTOMS))
    trouble.add_argument("file", metavar="FILE", nargs="?", help="the request that shows it")
    trouble.add_argument("--example", metavar="NAME", help="(.prompt) use this example")
    trouble.add_argument("--apply", metavar="N|all", help="make change N (or all changes)")
    trouble.add_argument("--out", metavar="FILE", help="write the changed request here")
    trouble.add_argument("--json", action="store_true", help="print the suggestions as JSON")
    trouble.set_defaults(func=run_troubleshoot)


# --------------------------------------------------------------------------- presets


def run_presets(args: argparse.Namespace) -> int:
    from kling_prompt.craft.data import presets

    table = presets()
    if args.json:
        data = {
            name: {
                "category": p.category,
                "phrases": list(p.phrases),
                "conflicts": list(p.conflicts),
            }
            for name, p in table.items()
        }
        print(json.dumps(data, indent=2))
        return 0
    for name, preset in table.items():
        conflicts = f"  (conflicts: {', '.join(preset.conflicts)})" if preset.conflicts else ""
        print(f"{name:16} {preset.category:15} {'; '.join(preset.phrases)}{conflicts}")
    return 0


# --------------------------------------------------------------------------- stages


def _load(source: str, example: str | None) -> Request:
    from kling_prompt.cli.render_cmd import LOADERS, _load_prompt_file, _load_spec_file
    from kling_prompt.errors import SpecError

    suffix = Path(source).suffix.lower()
    if suffix == ".prompt":
        return _load_prompt_file(source, example=example)
    if example:
        raise SpecError(f"{source}: --example applies to .prompt files only; remove it")
    if suffix == ".json":
        return _load_json(source)
    return LOADERS.get(suffix, _load_spec_file)(source)


def _load_json(source: str) -> Request:
    """A JSON payload ``{"endpoint", "arguments"}`` or, failing that, a JSON spec."""
    from kling_prompt.cli.render_cmd import _load_spec_file, _read
    from kling_prompt.request import Request

    try:
        data = json.loads(_read(source))
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict) and "arguments" in data:
        return Request(
            data.get("endpoint"),
            dict(data["arguments"]),
            mode=data.get("mode"),
            path=source,
            record=data.get("id"),
        )
    return _load_spec_file(source)


def _base_name(source: str) -> str:
    name = Path(source).name
    for suffix in (".prompt", ".yaml", ".yml", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def run_stages(args: argparse.Namespace) -> int:
    from kling_prompt.craft.staging import staged, write_stages
    from kling_prompt.errors import SpecError

    if args.out and args.jsonl:
        raise SpecError("stages: give --out DIR or --jsonl FILE, not both")
    request = _load(args.file, args.example)
    name = args.name or _base_name(args.file)
    if args.out or args.jsonl:
        paths = write_stages(request, name, args.out or args.jsonl, jsonl=bool(args.jsonl))
        for path in paths:
            print(path)
        return 0
    for stage, stage_request in staged(request):
        print(f"{name}.{stage}: {stage_request.prompt or ''}")
    return 0


# --------------------------------------------------------------------------- troubleshoot


def run_troubleshoot(args: argparse.Namespace) -> int:
    from kling_prompt.craft.data import symptoms
    from kling_prompt.craft.troubleshooting import apply_all, troubleshoot
    from kling_prompt.errors import SpecError

    info = symptoms()[args.symptom]
    if args.file is None:
        if args.apply or args.out:
            raise SpecError("troubleshoot: --apply and --out need a FILE to change")
        print(f"{args.symptom}: {info['summary']}")
        print("Give a prompt file, spec or payload to get the changes for that request. Advice:")
        for text in info.get("advice", ()):
            print(f"  - {text}")
        return 0
    request = _load(args.file, args.example)
    suggestions = troubleshoot(request, args.symptom)
    if args.apply is None:
        if args.out:
            raise SpecError("troubleshoot: --out writes a changed request; add --apply N or all")
        _show(args, suggestions)
        return 0
    if args.apply == "all":
        result, done = apply_all(request, suggestions)
        if not done:
            print("troubleshoot: no change applies to this request", file=sys.stderr)
            return 1
    else:
        chosen = _pick(args.apply, suggestions)
        result = chosen.apply(request)
        done = [chosen.title]
    for title in done:
        print(f"applied: {title}", file=sys.stderr)
    if args.out:
        write_request(result, Path(args.out))
        print(args.out)
    else:
        print(result.to_json())
    return 0


def _show(args: argparse.Namespace, suggestions: list[Any]) -> None:
    if args.json:
        rows = [{"n": i, **s.to_dict()} for i, s in enumerate(suggestions, 1)]
        print(json.dumps(rows, indent=2))
        return
    print(f"{args.symptom} in {args.file}:")
    for i, suggestion in enumerate(suggestions, 1):
        tag = suggestion.kind if suggestion.applicable else "advice"
        print(f"  {i}. [{tag}] {suggestion.title}")
    if any(s.applicable for s in suggestions):
        print("Apply one with --apply N, or every change with --apply all (--out FILE to write).")


def _pick(value: str, suggestions: list[Any]) -> Any:
    from kling_prompt.errors import SpecError

    try:
        index = int(value)
    except ValueError:
        raise SpecError(f"--apply: {value!r} is not a number or 'all'") from None
    if not 1 <= index <= len(suggestions):
        raise SpecError(f"--apply: {index} is not in the list (1-{len(suggestions)})")
    chosen = suggestions[index - 1]
    if not chosen.applicable:
        raise SpecError(f"--apply: {index} is advice, not a change; pick a numbered change")
    return chosen


def write_request(request: Request, path: Path) -> None:
    """Write a request as a payload (.json, .jsonl), a spec (.yaml) or a prompt file (.prompt)."""
    from kling_prompt.craft.staging import override, prompt_file_text, read_front_matter
    from kling_prompt.errors import SpecError

    suffix = path.suffix.lower()
    record: dict[str, Any] = {"endpoint": request.endpoint, "arguments": request.arguments}
    if request.mode:
        record["mode"] = request.mode
    if suffix == ".json":
        text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    elif suffix == ".jsonl":
        record = {"id": path.stem, **record}
        text = json.dumps(record, ensure_ascii=False) + "\n"
    elif suffix in (".yaml", ".yml"):
        if request.spec is None:
            raise SpecError(f"{path}: this request has no spec to write; use .json or .prompt")
        import yaml

        data = request.spec.model_dump(mode="json", exclude_defaults=True)
        data["endpoint"] = request.endpoint
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    elif suffix == ".prompt":
        doc: dict[str, Any] = {"model": request.endpoint}
        body = ""
        if request.spec is not None:
            spec = request.spec.model_dump(mode="json", exclude_defaults=True)
            for key in ("endpoint", "family", "tier"):
                spec.pop(key, None)
            doc["spec"] = spec
        else:
            config = {k: v for k, v in request.arguments.items() if k != "prompt"}
            if config:
                doc["config"] = config
            body = request.prompt or ""
            if any(mark in body for mark in ("{{", "{%", "{#")):
                body = "{% raw %}" + body + "{% endraw %}"
        base = _variant_base(path)
        if base is not None:
            doc = override(read_front_matter(base), doc)
        text = prompt_file_text(doc, body)
    else:
        raise SpecError(f"--out: {path} needs a .json, .jsonl, .prompt or .yaml suffix")
    if path.parent != Path():
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _variant_base(path: Path) -> Path | None:
    """``name.prompt`` when ``path`` is ``name.variant.prompt`` next to it."""
    parts = path.name.split(".")
    if len(parts) < 3:
        return None
    base = path.with_name(parts[0] + ".prompt")
    return base if base.is_file() else None
