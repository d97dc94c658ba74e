"""Validate fal arguments against an endpoint: every problem, each with its field path.

pydantic reports types, enums, ranges, lengths, required and unknown fields; the catalog's
cross-field rules add the prose limits. Messages are rewritten where pydantic's wording does not
say what to do, e.g. an unknown field names the field this endpoint uses for the same purpose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pydantic

from kling_prompt.catalog import data
from kling_prompt.catalog.models import RULES_ERROR, model
from kling_prompt.catalog.rules import check_rules
from kling_prompt.errors import Problem, ValidationError

# Field names that appear only in the source guides, mapped to what fal really has.
SOURCE_GUIDE_ALIASES = {
    "special_fx": "effect_scene",
    "dynamic_mask_url": "dynamic_masks",
}


def format_loc(loc: Sequence[str | int]) -> str:
    """``("multi_prompt", 1, "duration")`` -> ``"multi_prompt[1].duration"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def split_loc(loc: str) -> list[str | int]:
    """The inverse of :func:`format_loc`."""
    parts: list[str | int] = []
    for chunk in loc.split("."):
        name, _, rest = chunk.partition("[")
        if name:
            parts.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            parts.append(int(index))
            rest = rest.removeprefix("[")
    return parts


def unknown_field_hint(info: data.EndpointInfo, name: str) -> str:
    """What to send instead of ``name``, which ``info`` does not accept ("" if nothing fits)."""
    hints: list[str] = []
    removed = info.removed_fields.get(name)
    if removed:
        hints.append(f"fal removed it from this endpoint on {removed}")
    target = SOURCE_GUIDE_ALIASES.get(name, name)
    roles = data.field_roles(target)
    replacement = next(
        (info.roles[r] for r in sorted(roles) if info.roles.get(r) not in (None, name)), None
    )
    if replacement is not None:
        hints.append(f"this endpoint takes {replacement} for that")
    elif "voices" in roles and "element_voices" in info.roles:
        hints.append("bind voices per element with elements[].voice_id instead")
    else:
        others = [e for e in data.endpoints(accepts=target) if e.id != info.id]
        same_mode = [e.id for e in others if e.mode == info.mode] or [e.id for e in others]
        if same_mode:
            shown = ", ".join(same_mode[:3]) + (", ..." if len(same_mode) > 3 else "")
            alias = f" (fal calls it {target})" if target != name else ""
            hints.append(f"it is accepted by {shown}{alias}")
        elif not removed:
            close = data.close_matches(name, info.fields)
            if close:
                hints.append("did you mean " + " or ".join(close) + "?")
    return "".join(f"; {h}" for h in hints)


def _message(info: data.EndpointInfo, error: Mapping[str, Any], loc: str) -> str:
    kind = error["type"]
    message = str(error["msg"])
    leaf = loc.rsplit(".", 1)[-1]
    if kind == "extra_forbidden":
        hint = unknown_field_hint(info, leaf) if "." not in loc and "[" not in loc else ""
        return f"{leaf} is not an input of {info.id}{hint}; remove it"
    if kind == "missing":
        return f"{leaf} is required on {info.id}"
    if kind == "literal_error" and leaf == "duration" and isinstance(error.get("input"), int):
        return f'{message}; durations are strings on this endpoint, send "{error["input"]}"'
    if kind in {"too_long", "too_short"} and leaf in info.fields:
        source = info.fields[leaf].limit_source
        if source == "prose":
            return f"{message} (limit from fal's field description)"
    return message


def _problems_from(info: data.EndpointInfo, exc: pydantic.ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        if error["type"] == RULES_ERROR:
            continue
        loc = format_loc(error["loc"])
        problems.append(Problem(loc, _message(info, error, loc), error["type"]))
    return problems


def check(endpoint_id: str, arguments: Mapping[str, Any]) -> list[Problem]:
    """Every problem in ``arguments`` for ``endpoint_id``; an empty list means valid."""
    info = data.get(endpoint_id)
    if not isinstance(arguments, Mapping):
        return [Problem("", "the arguments must be a JSON object (a mapping)", "model_type")]
    try:
        model(endpoint_id).model_validate(dict(arguments))
    except pydantic.ValidationError as exc:
        problems = _problems_from(info, exc)
    else:
        return []
    seen = {(p.loc, p.type) for p in problems}
    for problem in check_rules(info, arguments):
        if (problem.loc, problem.type) not in seen:
            problems.append(problem)
    return problems


def validate(endpoint_id: str, arguments: Mapping[str, Any]) -> pydantic.BaseModel:
    """The typed input model instance, or :class:`ValidationError` listing every problem."""
    data.get(endpoint_id)
    if isinstance(arguments, Mapping):
        try:
            return model(endpoint_id).model_validate(dict(arguments))
        except pydantic.ValidationError:
            pass
    raise ValidationError(endpoint_id, check(endpoint_id, arguments))


def json_schema(endpoint_id: str) -> dict[str, Any]:
    """The JSON Schema of the endpoint's input, as pydantic derives it from the model."""
    schema: dict[str, Any] = model(endpoint_id).model_json_schema()
    schema["x-fal-endpoint"] = endpoint_id
    return schema
