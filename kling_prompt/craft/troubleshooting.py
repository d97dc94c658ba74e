"""Troubleshooting: the guide's fixes for a symptom, turned into concrete changes to a request.

``troubleshoot(request, symptom)`` lists :class:`Suggestion` objects. Applicable ones carry out
their change with ``apply(request)``: on a request rendered from a spec the spec is changed and
rendered again (so the source map stays right); otherwise the fal arguments are edited. A change
is only offered when it really changes the request and the result has no warning or error the
original did not have. The rest is advice that needs the user (better reference footage, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kling_prompt.craft.checks import lint_rule, problems
from kling_prompt.craft.data import phrases, symptoms
from kling_prompt.errors import KlingPromptError, SpecError
from kling_prompt.request import Request, SourceMap

__all__ = ["SYMPTOMS", "Suggestion", "apply_all", "troubleshoot"]

SYMPTOMS: tuple[str, ...] = (
    "motion-distortion",
    "object-morphing",
    "visual-coherence",
    "identity-loss",
    "motion-not-transferring",
)
_SHORT_SECONDS = 5
_BOUNDARY = re.compile(r"[,.;:!?]|\s(?:with|and|amid|plus)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Suggestion:
    """One fix for a symptom. ``kind`` names the change (``duration``, ``tier``,
    ``orientation``, ``stability``, ``appearance``, ``contradiction``, ``choreography``) or is
    ``advice`` for what only the user can do."""

    symptom: str
    kind: str
    title: str
    change: Callable[[Request], Request] | None = None

    @property
    def applicable(self) -> bool:
        return self.change is not None

    def apply(self, request: Request) -> Request:
        """The changed request (a new one; ``request`` is left as it is)."""
        if self.change is None:
            raise SpecError(f"{self.kind}: {self.title!r} is advice, not a change to the request")
        return self.change(request)

    def to_dict(self) -> dict[str, Any]:
        return {
            "symptom": self.symptom,
            "kind": self.kind,
            "title": self.title,
            "applicable": self.applicable,
        }


def troubleshoot(request: Request, symptom: str) -> list[Suggestion]:
    """The suggestions for ``symptom`` on ``request``: changes first, then advice."""
    if symptom not in SYMPTOMS:
        raise SpecError(f"symptom: unknown symptom {symptom!r}; choose from {', '.join(SYMPTOMS)}")
    mode = _mode(request)
    if symptom == "motion-not-transferring" and mode != "motion-control":
        raise SpecError(
            f"symptom: motion-not-transferring is about motion control, but this request is "
            f"{mode or 'of unknown mode'}; pick another symptom"
        )
    candidates = list(_candidates(request, symptom, mode))
    baseline = _codes(problems(request))
    out: list[Suggestion] = []
    for suggestion in candidates:
        if suggestion.change is not None and not _verified(request, suggestion, baseline):
            continue
        out.append(suggestion)
    out += [Suggestion(symptom, "advice", text) for text in symptoms()[symptom].get("advice", ())]
    return out


def apply_all(request: Request, suggestions: Iterable[Suggestion]) -> tuple[Request, list[str]]:
    """Apply every applicable suggestion in turn, skipping one that no longer fits the result.

    Returns the final request and the titles of the changes made.
    """
    baseline = _codes(problems(request))
    current = request
    done: list[str] = []
    for suggestion in suggestions:
        if not suggestion.applicable:
            continue
        try:
            candidate = suggestion.apply(current)
        except KlingPromptError:
            continue
        if candidate.payload() == current.payload() or _codes(problems(candidate)) - baseline:
            continue
        current = candidate
        done.append(suggestion.title)
    return current, done


# --------------------------------------------------------------------------- candidates


def _candidates(request: Request, symptom: str, mode: str | None) -> Iterable[Suggestion]:
    stock = phrases("troubleshoot")
    if symptom == "motion-distortion":
        yield from _shorter(request, symptom)
        yield from _standard_tier(request, symptom)
        yield from _stability(request, symptom, stock["stable_camera"])
    elif symptom == "object-morphing":
        yield from _stability(request, symptom, stock["exact_appearance"])
    elif symptom == "visual-coherence":
        yield from _contradictions(request, symptom)
        yield from _stability(request, symptom, stock["coherent_light"])
    elif symptom == "identity-loss":
        if mode in ("image-to-video", "motion-control", "reference-to-video"):
            yield from _appearance(request, symptom)
        yield from _standard_tier(request, symptom)
    elif symptom == "motion-not-transferring":
        yield from _orientation(request, symptom)
        yield from _choreography(request, symptom)


def _shorter(request: Request, symptom: str) -> Iterable[Suggestion]:
    info = _info(request)
    seconds = _seconds(request.arguments.get("duration"))
    if info is None or seconds is None or seconds <= _SHORT_SECONDS:
        return
    offered = [int(d) for d in info.capabilities.durations or ()]
    if _SHORT_SECONDS not in offered:
        return

    def change(req: Request) -> Request:
        spec = _spec(req)
        if spec is not None:
            return _respec(req, duration=_SHORT_SECONDS)
        args = dict(req.arguments)
        args["duration"] = _info_of(req).duration_value(_SHORT_SECONDS)
        return _copy(req, arguments=args)

    yield Suggestion(
        symptom,
        "duration",
        f"Use a {_SHORT_SECONDS} s clip instead of {seconds} s while testing",
        change,
    )


def _standard_tier(request: Request, symptom: str) -> Iterable[Suggestion]:
    info = _info(request)
    if info is None or info.tier in (None, "standard"):
        return
    from kling_prompt import catalog

    siblings = [
        e
        for e in catalog.endpoints(mode=info.mode, family=info.family)
        if e.tier == "standard" and e.routable
    ]
    if not siblings:
        return
    target = siblings[0].id

    def change(req: Request) -> Request:
        if _spec(req) is not None:
            return _respec(req, endpoint=target, family=None, tier=None)
        return _copy(req, endpoint=target)

    yield Suggestion(
        symptom,
        "tier",
        f"Test on the standard tier ({target}) before paying for {info.tier}",
        change,
    )


def _stability(request: Request, symptom: str, text: str) -> Iterable[Suggestion]:
    if any(text.lower() in body.lower() for _, body in _prompts(request)):
        return

    def change(req: Request) -> Request:
        spec = _spec(req)
        if spec is not None:
            return _respec(req, stability=(*spec.stability, text))
        args = _deep(req.arguments)
        kept = list(req.source_map)
        for field, body in _prompts(req):
            _set(args, field, f"{body.rstrip()} {text[0].upper()}{text[1:]}.")
            kept = [s for s in kept if s.field != field or s.end <= len(body.rstrip())]
        return _copy(req, arguments=args, source_map=SourceMap(kept))

    yield Suggestion(symptom, "stability", f'Add "{text}"', change)


def _rule_cuts(request: Request, code: str) -> list[tuple[str, int | None, int | None]]:
    return [
        (d.field, d.start, d.end)
        for d in lint_rule(request, code)
        if d.field and d.start is not None
    ]


def _cutter(
    finder: Callable[[Request], list[tuple[str, int | None, int | None]]],
) -> Callable[[Request], Request]:
    """A change that finds its phrases again in the request it is applied to."""

    def change(req: Request) -> Request:
        cuts = finder(req)
        return _remove(req, cuts) if cuts else req

    return change


def _contradictions(request: Request, symptom: str) -> Iterable[Suggestion]:
    cuts = _rule_cuts(request, "KP801")
    if not cuts:
        return
    words = [_text(request, *cut) for cut in cuts]
    yield Suggestion(
        symptom,
        "contradiction",
        "Remove the contradicting " + ", ".join(repr(w) for w in words) + " (KP801)",
        _cutter(lambda req: _rule_cuts(req, "KP801")),
    )


def _choreography(request: Request, symptom: str) -> Iterable[Suggestion]:
    cuts = _rule_cuts(request, "KP301")
    if not cuts:
        return
    words = [_text(request, *cut) for cut in cuts]
    yield Suggestion(
        symptom,
        "choreography",
        "Remove the motion words " + ", ".join(repr(w) for w in words) + " (KP301): the "
        "reference video defines the motion",
        _cutter(lambda req: _rule_cuts(req, "KP301")),
    )


def _orientation(request: Request, symptom: str) -> Iterable[Suggestion]:
    current = request.arguments.get("character_orientation")
    if current not in ("image", "video"):
        return
    hints = lint_rule(request, "KP306")
    if not hints:
        return
    other = "video" if current == "image" else "image"

    def change(req: Request) -> Request:
        if _spec(req) is not None:
            return _respec(req, character_orientation=other, intended_use=None)
        args = dict(req.arguments)
        args["character_orientation"] = other
        return _copy(req, arguments=args)

    yield Suggestion(
        symptom,
        "orientation",
        f"Switch character_orientation from {current!r} to {other!r} (KP306: "
        "video for dance and athletics, image for portraits and camera work)",
        change,
    )


def _appearance(request: Request, symptom: str) -> Iterable[Suggestion]:
    spec = _spec(request)
    if spec is not None:
        if spec.subject is None or not spec.subject.attributes:
            return
        kept = tuple(a for a in spec.subject.attributes if not _appearance_hits(a))
        dropped = [a for a in spec.subject.attributes if a not in kept]
        if not dropped:
            return
        subject = {"description": spec.subject.description, "attributes": kept}
        yield Suggestion(
            symptom,
            "appearance",
            "Drop the appearance attributes "
            + ", ".join(repr(a) for a in dropped)
            + ": let the image define the look",
            lambda req: _respec(req, subject=subject),
        )
        return
    cuts = _appearance_cuts(request)
    if not cuts:
        return
    words = [_text(request, *cut).strip(" ,") for cut in cuts]
    yield Suggestion(
        symptom,
        "appearance",
        "Remove the appearance clauses "
        + ", ".join(repr(w) for w in words)
        + ": let the image define the look",
        _cutter(_appearance_cuts),
    )


def _appearance_cuts(request: Request) -> list[tuple[str, int | None, int | None]]:
    cuts: list[tuple[str, int | None, int | None]] = []
    for field, body in _prompts(request):
        for start, end in _appearance_clauses(body):
            cuts.append((field, start, end))
    return cuts


# --------------------------------------------------------------------------- helpers


def _verified(request: Request, suggestion: Suggestion, baseline: set[str]) -> bool:
    try:
        result = suggestion.apply(request)
    except KlingPromptError:
        return False
    if result.payload() == request.payload():
        return False
    return not (_codes(problems(result)) - baseline)


def _codes(diagnostics: Iterable[Any]) -> set[str]:
    return {d.code for d in diagnostics}


def _mode(request: Request) -> str | None:
    if request.mode:
        return request.mode
    info = _info(request)
    return info.mode if info is not None else None


def _info(request: Request) -> Any:
    from kling_prompt import catalog

    if not request.endpoint:
        return None
    try:
        return catalog.get(request.endpoint)
    except KlingPromptError:
        return None


def _info_of(request: Request) -> Any:
    info = _info(request)
    if info is None:
        raise SpecError(f"endpoint: {request.endpoint!r} is not in the catalog")
    return info


def _seconds(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _spec(request: Request) -> Any:
    from kling_prompt.spec import PromptSpec

    return request.spec if isinstance(request.spec, PromptSpec) else None


def _respec(request: Request, **updates: Any) -> Request:
    """Render the request's spec again with ``updates`` (``None`` removes a field)."""
    from kling_prompt.rendering import render
    from kling_prompt.spec import load_spec

    data = request.spec.model_dump(exclude_defaults=True)
    for key, value in updates.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    new = render(load_spec(data))
    extra = {k: v for k, v in request.arguments.items() if k not in _rendered_keys(request)}
    new.arguments.update(extra)
    new.path = request.path
    new.record = request.record
    return new


def _rendered_keys(request: Request) -> set[str]:
    from kling_prompt.rendering import render

    try:
        return set(render(request.spec).arguments)
    except KlingPromptError:
        return set(request.arguments)


def _copy(
    request: Request,
    *,
    endpoint: str | None = None,
    arguments: dict[str, Any] | None = None,
    source_map: SourceMap | None = None,
) -> Request:
    return Request(
        endpoint or request.endpoint,
        arguments if arguments is not None else _deep(request.arguments),
        source_map=source_map if source_map is not None else request.source_map,
        mode=request.mode,
        path=request.path,
        record=request.record,
    )


def _deep(arguments: dict[str, Any]) -> dict[str, Any]:
    import copy

    return copy.deepcopy(arguments)


def _prompts(request: Request) -> list[tuple[str, str]]:
    return [(f, t) for f, t in request.text_fields() if f != "negative_prompt"]


def _set(arguments: dict[str, Any], field: str, value: str) -> None:
    from kling_prompt.request import set_field

    set_field(arguments, field, value)


def _text(request: Request, field: str, start: int | None, end: int | None) -> str:
    from kling_prompt.request import get_field

    text = str(get_field(request.arguments, field))
    return text[start:end]


def _remove(request: Request, cuts: list[tuple[str, int | None, int | None]]) -> Request:
    """Cut phrases out of the prompt text, with the connector that led into them."""
    from kling_prompt.request import get_field

    if _spec(request) is not None:
        return _remove_in_spec(request, cuts)
    args = _deep(request.arguments)
    edited = {c[0] for c in cuts}
    for field in edited:
        text = str(get_field(args, field))
        ranges = sorted(((s or 0), (e or 0)) for f, s, e in cuts if f == field)
        for start, end in reversed(ranges):
            text = _cut(text, start, end)
        _set(args, field, text)
    # Offsets in an edited field no longer hold: its spans are dropped (lint then points at
    # the field itself); the other fields keep theirs.
    spans = [span for span in request.source_map if span.field not in edited]
    return _copy(request, arguments=args, source_map=SourceMap(spans))


def _remove_in_spec(request: Request, cuts: list[tuple[str, int | None, int | None]]) -> Request:
    """Remove each phrase from the spec field it came from (found through the source map)."""
    data = request.spec.model_dump(exclude_defaults=True)
    for field, start, end in cuts:
        phrase = _text(request, field, start, end)
        found = request.source_map.locate(field, start or 0)
        if found is None or found[0].origin.field is None:
            raise SpecError(f"{field}: {phrase!r} is template text; edit the template instead")
        path = found[0].origin.field
        value = _get_path(data, path)
        if not isinstance(value, str):
            raise SpecError(f"{path}: cannot edit a {type(value).__name__}")
        at = value.lower().find(phrase.lower())
        if at < 0:
            raise SpecError(f"{path}: {phrase!r} not found")
        new = _cut(value, at, at + len(phrase)).rstrip(".")
        _set_path(data, path, new if any(ch.isalnum() for ch in new) else None)
    return _respec(request, **{k: data.get(k) for k in _top_keys(cuts, request)})


def _top_keys(cuts: list[tuple[str, int | None, int | None]], request: Request) -> set[str]:
    keys: set[str] = set()
    for field, start, _ in cuts:
        found = request.source_map.locate(field, start or 0)
        if found is not None and found[0].origin.field:
            keys.add(re.split(r"[.\[]", found[0].origin.field)[0])
    return keys


_PATH = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _parts(path: str) -> list[str | int]:
    return [m.group(1) if m.group(1) else int(m.group(2)) for m in _PATH.finditer(path)]


def _get_path(data: Any, path: str) -> Any:
    for part in _parts(path):
        data = data[part] if isinstance(part, int) else data.get(part)
    return data


def _set_path(data: Any, path: str, value: Any) -> None:
    """Set (or with ``None`` remove) a spec path; empty containers left behind are removed."""
    parts = _parts(path)
    chain = [data]
    for part in parts[:-1]:
        data = data[part]
        chain.append(data)
    last = parts[-1]
    if value is not None:
        if isinstance(data, tuple):
            items = list(data)
            items[int(last)] = value
            _replace(chain, parts, tuple(items))
        else:
            data[last] = value
        return
    if isinstance(data, (tuple, list)):
        items = [v for i, v in enumerate(data) if i != last]
        _replace(chain, parts, tuple(items))
    else:
        data.pop(last, None)
    for depth in range(len(chain) - 1, 0, -1):
        node = _get_path(chain[0], _join(parts[:depth]))
        if node in ({}, (), []):
            parent = chain[depth - 1]
            key = parts[depth - 1]
            if isinstance(parent, dict):
                parent.pop(key, None)


def _replace(chain: list[Any], parts: list[str | int], value: Any) -> None:
    parent = chain[-2] if len(chain) > 1 else None
    if parent is None:
        raise SpecError("cannot edit the spec root")
    parent[parts[-2]] = value


def _join(parts: list[str | int]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    """What to cut for the phrase ``[start, end)``: its whole clause (back to a comma or a
    connector such as "with", on to the next punctuation) when the phrase opens the clause,
    else the phrase alone ("a dancer spinning on a stage" loses "spinning" only)."""
    left = 0
    for match in _BOUNDARY.finditer(text[:start]):
        left = match.start() + (1 if text[match.start()] in ".!?" else 0)
    lead = _BOUNDARY.sub("", text[left:start]).strip()
    if lead:
        return start, end
    right = end
    while right < len(text) and text[right] not in ",.;:!?":
        right += 1
    return left, right


def _cut(text: str, start: int, end: int) -> str:
    """``text`` without the clause holding ``[start, end)``, tidied."""
    left, right = _clause(text, start, end)
    return _tidy(text[:left] + text[right:])


def _tidy(text: str) -> str:
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"[,;:]+(?=[.!?])", "", text)
    text = re.sub(r"([,;:])[,;:]+", r"\1", text)
    text = re.sub(r"\s{2,}", " ", text)
    text = re.sub(r"(^|[.!?]\s+)([,;:]\s*)+", r"\1", text)
    text = re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)
    return text.strip(" ,;:")


def _appearance_hits(text: str) -> bool:
    return any(any(k == "appearance" for k in hit.keys) for hit in _matcher().find(text.lower()))


def _appearance_clauses(text: str) -> list[tuple[int, int]]:
    """Comma clauses made only of appearance (no motion verb), after the first of a sentence."""
    matcher = _matcher()
    out: list[tuple[int, int]] = []
    for sentence in re.finditer(r"[^.!?]+[.!?]?", text):
        clauses = list(re.finditer(r"[^,.!?]+", sentence.group(0)))
        for clause in clauses[1:]:
            hits = matcher.find(clause.group(0).lower())
            keys = {k for h in hits for k in h.keys}
            if "appearance" in keys and "motion-verbs" not in keys:
                start = sentence.start() + clause.start()
                out.append((start, sentence.start() + clause.end()))
    return out


def _matcher() -> Any:
    from kling_prompt.linter.lexicon import Matcher
    from kling_prompt.linter.loader import load_runtime

    return Matcher(load_runtime()["lexicon"])
