"""Cross-field rules that fal states in prose rather than in its JSON schema.

"prompt or multi_prompt, not both", "at most 4 references when a video is used", "one video
element", "elements only with character_orientation='video'", "shots add up to 15 s at most".
They are checked here on plain arguments, with the standard library only, so the pydantic models
(which call this from a model validator) and the linter share one implementation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kling_prompt.catalog.data import EndpointInfo, constants
from kling_prompt.errors import Problem


def _present(arguments: Mapping[str, Any], name: str) -> bool:
    return arguments.get(name) is not None


def _items(arguments: Mapping[str, Any], name: str) -> list[Any]:
    value = arguments.get(name)
    return list(value) if isinstance(value, list) else []


def _has_video(arguments: Mapping[str, Any]) -> bool:
    if _present(arguments, "video_url"):
        return True
    return any(
        isinstance(e, Mapping) and e.get("video_url") is not None
        for e in _items(arguments, "elements")
    )


def _shot_seconds(shot: Any, allowed: Sequence[str]) -> int | None:
    """A shot's length, or None when it is malformed (the schema check reports that)."""
    if not isinstance(shot, Mapping):
        return None
    value = shot.get("duration", "5")
    return int(value) if isinstance(value, str) and value in allowed else None


def _exclusive(info: EndpointInfo, arguments: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for group in info.exclusive:
        given = [name for name in group if _present(arguments, name)]
        names = " or ".join(group)
        if not given:
            problems.append(
                Problem(
                    group[0],
                    f"give exactly one of {names}: neither was given",
                    "missing",
                )
            )
        elif len(given) > 1:
            problems.append(
                Problem(
                    given[-1],
                    f"give exactly one of {names}, not both: {given[-1]} replaces {given[0]} "
                    f"on {info.id}; drop one of them",
                    "exclusive_fields",
                )
            )
    return problems


def _rule(
    info: EndpointInfo, rule: Mapping[str, Any], arguments: Mapping[str, Any]
) -> list[Problem]:
    kind = rule["kind"]
    if kind == "max_total":
        if rule.get("when_video") and not _has_video(arguments):
            return []
        fields: Sequence[str] = rule["fields"]
        counts = {name: len(_items(arguments, name)) for name in fields}
        total = sum(counts.values())
        if total <= rule["max"]:
            return []
        loc = next((n for n in reversed(fields) if counts[n]), fields[0])
        detail = " + ".join(f"{counts[n]} {n}" for n in fields)
        return [
            Problem(
                loc,
                f"{detail} = {total} references; {info.id} allows {rule['text']}; "
                f"drop {total - rule['max']} of them",
                "too_long",
            )
        ]
    if kind == "max_video_elements":
        with_video = [
            i
            for i, element in enumerate(_items(arguments, rule["field"]))
            if isinstance(element, Mapping) and element.get("video_url") is not None
        ]
        if len(with_video) <= rule["max"]:
            return []
        second = with_video[rule["max"]]
        return [
            Problem(
                f"{rule['field']}[{second}].video_url",
                f"{len(with_video)} elements have a video_url but {rule['text']}; "
                "keep the video on one element and give the others images",
                "too_long",
            )
        ]
    if kind == "requires":
        if not _items(arguments, rule["field"]):
            return []
        problems = []
        for name, wanted in rule["requires"].items():
            if arguments.get(name) != wanted:
                problems.append(
                    Problem(
                        rule["field"],
                        f"{rule['text']} (got {name}={arguments.get(name)!r}); set {name} to "
                        f"{wanted!r} or drop {rule['field']}",
                        "value_error",
                    )
                )
        return problems
    if kind == "max_total_shot_seconds":
        shots = _items(arguments, rule["field"])
        allowed = constants()["multi_shot_limits"]["shot_durations"]
        seconds = [_shot_seconds(shot, allowed) for shot in shots]
        if not shots or any(s is None for s in seconds):
            return []
        total = sum(s for s in seconds if s is not None)
        if total <= rule["max"]:
            return []
        return [
            Problem(
                rule["field"],
                f"the shots last {total} s in total but {rule['text']}; shorten or drop shots",
                "value_error",
            )
        ]
    return []


def check_rules(info: EndpointInfo, arguments: Mapping[str, Any]) -> list[Problem]:
    """Problems with the cross-field rules of ``info`` in ``arguments`` (never raises)."""
    problems = _exclusive(info, arguments)
    for rule in info.rules:
        problems.extend(_rule(info, rule, arguments))
    return problems
