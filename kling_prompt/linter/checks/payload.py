"""KP1xx: payload and API limits, checked against the endpoint catalog.

Every endpoint fact (fields, enums, ranges, durations, capabilities, cross-field rules, prices)
comes from :mod:`kling_prompt.catalog`; the rule files only hold product choices (fallback limits
for unknown endpoints, which values another rule owns). Each check bails out on a cheap dict
lookup when it has nothing to look at, because the linter runs on every commit.

Most requests of a run go to one endpoint, so what the checks need from its catalog entry (which
fields hold enums, ranges, files, required keys) is gathered once per endpoint (:class:`PerEndpoint`)
and each check first runs a cheap test that is a necessary condition for reporting: when it
passes (the common case) the check returns at once, otherwise the full check runs.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

if TYPE_CHECKING:
    from pathlib import Path

from kling_prompt.catalog import data as catalog
from kling_prompt.catalog.data import EndpointInfo, FieldInfo
from kling_prompt.linter.diagnostic import Diagnostic, Edit, Fix
from kling_prompt.linter.rules import Context, RuleMeta, check, gate_check, length_bound

# Abstract input roles that stand for a capability (KP111). A field of such a role sent to an
# endpoint without the capability is "unsupported feature", not merely "unknown field" (KP109).
FEATURE_ROLES: dict[str, str] = {
    "audio": "native_audio",
    "voices": "voices",
    "element_voices": "voices",
    "multi_prompt": "multi_shot",
    "shot_type": "multi_shot",
    "end_image": "end_frame",
    "elements": "elements",
    "character_orientation": "motion-control",
}
# Roles that carry the same input in another shape (voice_ids vs elements[].voice_id).
RELATED_ROLES: dict[str, str] = {"voices": "element_voices", "element_voices": "voices"}


def endpoint(ctx: Context) -> EndpointInfo | None:
    """The catalog entry of the request's endpoint, or None when it is unknown."""
    info = ctx.info
    return info if isinstance(info, EndpointInfo) else None


def show(value: Any) -> str:
    """A value as the user wrote it in JSON (``"5"`` vs ``5``)."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def short_id(endpoint_id: str) -> str:
    return endpoint_id.removeprefix("fal-ai/kling-video/")


def given(value: Any) -> bool:
    """Whether an argument asks for something (``None``, ``False``, ``""`` and ``[]`` do not)."""
    return value is not None and value is not False and value != "" and value != []


def choices(values: Sequence[Any], limit: int = 12) -> str:
    shown = ", ".join(show(v) for v in values[:limit])
    return shown if len(values) <= limit else f"{shown}, ... ({len(values)} values)"


def nearest(value: Any, options: Sequence[Any]) -> Any | None:
    """The closest allowed value: numerically for numbers, by spelling for text."""
    if not options:
        return None
    number = _number(value)
    numeric = [_number(o) for o in options]
    if number is not None and all(n is not None for n in numeric):
        return min(options, key=lambda o: abs((_number(o) or 0.0) - number))
    text = str(value).strip().lower()
    folded = {str(o).lower(): o for o in options}
    if text in folded:
        return folded[text]
    from difflib import get_close_matches

    found = get_close_matches(text, list(folded), n=1, cutoff=0.5)
    return folded[found[0]] if found else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:  # beyond any float: beyond every limit too
            return math.inf if value > 0 else -math.inf
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip().lower().removesuffix("s").strip()
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def whole_seconds(value: Any) -> int | None:
    number = _number(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def walk(
    fields: Mapping[str, FieldInfo], obj: Mapping[str, Any], prefix: str = ""
) -> Iterator[tuple[str, FieldInfo, Any]]:
    """Every known field of ``obj`` with its path, descending into shared nested types."""
    for name, value in obj.items():
        field = fields.get(name)
        if field is None:
            continue
        path = f"{prefix}{name}"
        yield path, field, value
        nested = field.nested
        if nested is None or value is None:
            continue
        sub = _type_fields(nested)
        if sub is None:
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    yield from walk(sub, item, f"{path}[{i}].")
        elif isinstance(value, Mapping):
            yield from walk(sub, value, f"{path}.")


def _type_fields(name: str) -> dict[str, FieldInfo] | None:
    try:
        return catalog.shared_type(name).fields
    except LookupError:
        return None


def nested_objects(
    info: EndpointInfo, arguments: Mapping[str, Any]
) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """``(path, type name, object)`` of every nested object the arguments hold."""
    for name, value in arguments.items():
        field = info.fields.get(name)
        if field is None or field.nested is None:
            continue
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, Mapping):
                    yield f"{name}[{i}]", field.nested, item
        elif isinstance(value, Mapping):
            yield name, field.nested, value


# -- per-endpoint facts --------------------------------------------------------------------------

T = TypeVar("T")


class PerEndpoint(Generic[T]):
    """``compute(info)`` computed once per endpoint and kept: a catalog entry never changes.

    Keyed by the entry object itself (hashed by identity), so a reloaded catalog gets fresh facts.
    """

    __slots__ = ("compute", "found")

    def __init__(self, compute: Callable[[EndpointInfo], T]) -> None:
        self.compute = compute
        self.found: dict[EndpointInfo, T] = {}

    def get(self, info: EndpointInfo) -> T:
        found = self.found.get(info)
        if found is None:
            found = self.found[info] = self.compute(info)
        return found


def entries(value: Any) -> Sequence[Mapping[str, Any]]:
    """The objects a nested-type argument holds, as :func:`walk` descends into them."""
    if isinstance(value, list):
        return [item for item in value if isinstance(item, Mapping)]
    if isinstance(value, Mapping):
        return (value,)
    return ()


class FieldCheck:
    """One field a quick pre-check looks at: whether its value is tested here (``test``), the
    checks of the fields of the nested objects it holds (``sub``), and ``cyclic`` for a type
    that contains itself (never in the catalog; such values always take the full check)."""

    __slots__ = ("cyclic", "field", "sub", "test")

    def __init__(
        self, field: FieldInfo, test: bool, sub: dict[str, FieldCheck] | None, cyclic: bool
    ) -> None:
        self.field = field
        self.test = test
        self.sub = sub
        self.cyclic = cyclic


def field_checks(
    fields: Mapping[str, FieldInfo],
    wanted: Callable[[FieldInfo], bool],
    top: bool = True,
    seen: frozenset[str] = frozenset(),
) -> dict[str, FieldCheck]:
    """The fields (and nested fields, as :func:`walk` reaches them) a pre-check must look at:
    those ``wanted`` says it tests, and those holding nested objects with such fields. With
    ``top`` false the top-level fields are only descended into, not tested."""
    out: dict[str, FieldCheck] = {}
    for name, field in fields.items():
        sub: dict[str, FieldCheck] | None = None
        cyclic = False
        nested = field.nested
        if nested is not None:
            if nested in seen:
                cyclic = True
            else:
                sub_fields = _type_fields(nested)
                if sub_fields is not None:
                    sub = field_checks(sub_fields, wanted, True, seen | {nested}) or None
        test = top and wanted(field)
        if test or sub is not None or cyclic:
            out[name] = FieldCheck(field, test, sub, cyclic)
    return out


def all_pass(
    checks: Mapping[str, FieldCheck],
    obj: Mapping[str, Any],
    ok: Callable[[FieldInfo, Any], bool],
) -> bool:
    """Whether ``ok(field, value)`` holds for every non-null value :func:`walk` would reach
    through ``checks``; False as soon as one fails."""
    for name, value in obj.items():
        entry = checks.get(name)
        if entry is None or value is None:
            continue
        if entry.cyclic or (entry.test and not ok(entry.field, value)):
            return False
        sub = entry.sub
        if sub is not None:
            for item in entries(value):
                if not all_pass(sub, item, ok):
                    return False
    return True


class PayloadFacts:
    """What the KP1xx pre-checks need from one endpoint's catalog entry."""

    __slots__ = (
        "choices",
        "field_names",
        "media",
        "nested_fields",
        "nested_names",
        "nested_required",
        "ranges",
        "simple",
        "voiceless",
    )

    def __init__(self, info: EndpointInfo) -> None:
        self.field_names = frozenset(info.fields)
        # KP107: enum fields; KP108: numbers, capped strings and lists; KP112: nested files.
        self.choices = field_checks(info.fields, lambda f: f.enum is not None)
        self.ranges = field_checks(info.fields, _has_range)
        # Top-level fields none of KP107-KP111 looks into: no enum, no nested objects, no range
        # but a text cap (the prompt's). Name -> that cap, or None.
        self.simple: dict[str, int | None] = {
            name: field.max_length
            for name, field in info.fields.items()
            if field.enum is None
            and field.nested is None
            and (not _has_range(field) or field.type == "string")
        }
        self.media = field_checks(info.fields, lambda f: f.file, top=False)
        # KP109-KP111: the nested objects one level down (as nested_objects finds them).
        nested: dict[str, frozenset[str]] = {}
        required: dict[str, tuple[str, ...]] = {}
        for name, field in info.fields.items():
            if field.nested is None:
                continue
            sub = _type_fields(field.nested)
            if sub is None:
                continue
            nested[name] = frozenset(sub)
            with_required = catalog.shared_type(field.nested).required
            if with_required:
                required[name] = with_required
        self.nested_fields = nested
        self.nested_names = frozenset(nested)
        self.nested_required = required
        # KP111: nested fields whose objects may not carry a voice, on a model without voices.
        self.voiceless: frozenset[str] = frozenset()
        if info.capabilities.voices is None:
            self.voiceless = frozenset(
                name
                for name, field in info.fields.items()
                if field.nested is not None and "voice_id" not in (_type_fields(field.nested) or {})
            )

    def nested_known(self, args: Mapping[str, Any]) -> bool:
        """Whether every nested object in the arguments holds only fields its type has."""
        for name, known in self.nested_fields.items():
            if name in args:
                for item in entries(args[name]):
                    if not item.keys() <= known:
                        return False
        return True

    def voice_requested(self, args: Mapping[str, Any]) -> bool:
        """Whether a nested object that cannot carry a voice asks for one (KP111)."""
        for name in self.voiceless:
            if name in args:
                for item in entries(args[name]):
                    if given(item.get("voice_id")):
                        return True
        return False


PAYLOAD_FACTS = PerEndpoint(PayloadFacts)


def _has_range(field: FieldInfo) -> bool:
    """Whether KP108 tests the field: a number, a string with a cap, a list with a size cap."""
    if field.type in ("number", "integer"):
        return field.enum is None
    if field.type == "string":
        return field.max_length is not None
    if field.type == "array":
        return field.max_items is not None or field.min_items is not None
    return False


def suggest_endpoints(info: EndpointInfo | None, feature: str, limit: int = 3) -> list[str]:
    """Endpoints offering ``feature``: the same mode, family and tier first, newest family next."""
    return list(_suggest_endpoints(info.id if info is not None else None, feature, limit))


@functools.lru_cache(maxsize=512)
def _suggest_endpoints(endpoint_id: str | None, feature: str, limit: int) -> tuple[str, ...]:
    info = catalog.get(endpoint_id) if endpoint_id is not None else None
    if feature == "motion-control":
        found = catalog.endpoints(mode="motion-control")
    else:
        found = catalog.endpoints(**{feature: True, "video": True})
    order = {f: i for i, f in enumerate(catalog.FAMILY_ORDER)}

    def rank(e: EndpointInfo) -> tuple[int, int, int, int, int, str]:
        if info is None:
            return (0, 0, not e.schema_complete, -order.get(e.family, -1), 0, e.id)
        return (
            e.mode != info.mode,
            e.family != info.family,
            not e.schema_complete,
            -order.get(e.family, -1),
            e.tier != info.tier,
            e.id,
        )

    return tuple(e.id for e in sorted(found, key=rank)[:limit])


def feature_claim(info: EndpointInfo, name: str, value: Any) -> str | None:
    """The capability KP111 reports for an argument the endpoint lacks, or None.

    A field is claimed only when the endpoint does not accept it, the value asks for something,
    and the endpoint lacks the capability altogether (otherwise KP109 suggests the right field).
    """
    if name in info.fields or not given(value):
        return None
    for role in sorted(catalog.field_roles(name)):
        feature = FEATURE_ROLES.get(role)
        if feature is None:
            continue
        if feature == "motion-control":
            if info.mode != "motion-control":
                return feature
        elif not info.capabilities.has(feature):
            return feature
    return None


def _set(path: str, value: Any) -> Edit:
    return Edit(path, None, None, value)


def _delete(path: str) -> Edit:
    return Edit(path, None, None, None, delete=True)


# -- KP101-KP103: text lengths -------------------------------------------------------------------


def _text_limit(ctx: Context, meta: RuleMeta, name: str) -> int | None:
    """The endpoint's character limit for a text field; the rule's fallback when unknown."""
    info = endpoint(ctx)
    if info is None:
        fallback = ctx.option(meta, "max")
        return int(fallback) if fallback is not None else None
    field = info.fields.get(name)
    if field is not None and field.max_length is not None:
        return field.max_length
    caps = info.capabilities
    limit = caps.prompt_max_chars if name == "prompt" else caps.negative_prompt_max_chars
    return limit if name in info.fields else None


def _smallest_limit(options: Mapping[str, Any], family: str | None) -> int | None:
    """The smallest limit :func:`_text_limit` can give a rule with these options: the ``max``
    option for an unknown endpoint (no family), else the catalog's smallest; ``None`` when
    there is none (no text is ever over a limit)."""
    if family is None:
        fallback = options.get("max")
        return int(fallback) if fallback is not None else None
    return min(catalog.text_limits(), default=None)


@length_bound("text-limit")
def _text_limit_bound(
    meta: RuleMeta, options: Mapping[str, Any], mode: str | None, family: str | None
) -> int | None:
    """KP101 and KP103 report only a text longer than its limit."""
    smallest = _smallest_limit(options, family)
    return smallest if smallest is not None else sys.maxsize


@length_bound("near-text-limit")
def _near_limit_bound(
    meta: RuleMeta, options: Mapping[str, Any], mode: str | None, family: str | None
) -> int | None:
    """KP102 reports only a prompt longer than its limit minus ``margin``."""
    smallest = _smallest_limit(options, family)
    if smallest is None:
        return sys.maxsize
    return smallest - int(options.get("margin", 200))


def _over_limit(ctx: Context, meta: RuleMeta, name: str) -> list[Diagnostic]:
    """The text field ``name`` over its character limit: one diagnostic from the limit on."""
    text = ctx.arguments.get(name)
    if not isinstance(text, str):
        return []
    limit = _text_limit(ctx, meta, name)
    if limit is None or len(text) <= limit:
        return []
    return [ctx.report(meta, field=name, start=limit, end=len(text), value=len(text), limit=limit)]


@check("KP101")
def prompt_too_long(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """fal answers 422 for a prompt over the schema's maxLength."""
    return _over_limit(ctx, meta, "prompt")


@check("KP102")
def prompt_near_limit(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """A prompt close to the limit goes over it as soon as a template variable grows."""
    text = ctx.arguments.get("prompt")
    limit = _text_limit(ctx, meta, "prompt") if isinstance(text, str) else None
    if text is None or limit is None:
        return []
    threshold = limit - int(ctx.option(meta, "margin", 200))
    if not threshold < len(text) <= limit:
        return []
    return [
        ctx.report(
            meta,
            field="prompt",
            start=threshold,
            end=len(text),
            value=len(text),
            limit=limit,
            threshold=threshold,
            room=limit - len(text),
        )
    ]


@check("KP103")
def negative_prompt_too_long(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """The negative prompt has the same maxLength as the prompt on every endpoint that has one."""
    return _over_limit(ctx, meta, "negative_prompt")


# -- KP104, KP105, KP113: multi-shot -------------------------------------------------------------


def _present(arguments: Mapping[str, Any], name: str) -> bool:
    value = arguments.get(name)
    return value is not None and value != []


@check("KP104")
def prompt_xor_multi_prompt(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """Exclusive field groups from the catalog: exactly one of them must be given."""
    info = endpoint(ctx)
    if info is None or not info.exclusive:
        return ()
    args = ctx.arguments
    for group in info.exclusive:
        present = 0
        for name in group:
            value = args.get(name)  # (``_present`` inlined: this runs for most requests)
            if value is not None and value != []:
                present += 1
        if present != 1:
            return _exclusive(ctx, meta, info)
    return ()


def _exclusive(ctx: Context, meta: RuleMeta, info: EndpointInfo) -> Iterator[Diagnostic]:
    args = ctx.arguments
    for group in info.exclusive:
        present = [name for name in group if _present(args, name)]
        names = " or ".join(f"`{n}`" for n in group)
        if not present:
            yield ctx.report(
                meta,
                f"{short_id(info.id)} needs {names}, and neither is given; add a `{group[0]}` "
                f"(or `{group[-1]}` for several shots).",
            )
        elif len(present) > 1:
            keep, drop = present[-1], present[:-1]
            yield ctx.report(
                meta,
                f"Both {' and '.join(f'`{n}`' for n in present)} are given, but "
                f"{short_id(info.id)} takes only one of them ({keep} overrides the others); "
                f"drop {' and '.join(f'`{n}`' for n in drop)}.",
                field=drop[0],
                fix=Fix(f"Remove {', '.join(drop)}", [_delete(n) for n in drop], safe=False),
            )


def _shot_field(info: EndpointInfo) -> FieldInfo | None:
    field = info.fields.get("multi_prompt")
    if field is None or field.nested is None:
        return None
    sub = _type_fields(field.nested)
    return sub.get("duration") if sub else None


def _allowed(field: FieldInfo) -> list[Any] | None:
    """Every value a duration-like field accepts, in order (None: unconstrained)."""
    if field.enum is not None:
        return [v for v in field.enum if v is not None]
    if field.type == "integer" and field.minimum is not None and field.maximum is not None:
        return list(range(int(field.minimum), int(field.maximum) + 1))
    return None


def _typed(seconds: int, allowed: Sequence[Any], field: FieldInfo) -> Any:
    """``seconds`` in the type the field wants (``"5"`` for string enums, ``5`` for integers)."""
    if allowed and isinstance(allowed[0], str):
        return str(seconds)
    if field.type == "string":
        return str(seconds)
    return seconds


def _range_text(allowed: Sequence[Any]) -> str:
    if len(allowed) > 4 and all(whole_seconds(a) is not None for a in allowed):
        numbers = [whole_seconds(a) for a in allowed]
        if numbers == list(range(numbers[0] or 0, (numbers[-1] or 0) + 1)):
            return f"{show(allowed[0])} to {show(allowed[-1])}"
    return choices(list(allowed))


def duration_problem(
    path: str, value: Any, field: FieldInfo, where: str
) -> tuple[str, Fix | None] | None:
    """Message and fix for a duration outside the field's allowed values, or None when valid."""
    allowed = _allowed(field)
    if allowed is None or value is None:
        return None
    if value in allowed and not isinstance(value, bool) and type(value) is type(allowed[0]):
        return None
    seconds = whole_seconds(value)
    offered = [whole_seconds(a) for a in allowed]
    if seconds is not None and seconds in offered:
        right = _typed(seconds, allowed, field)
        kind = "a string" if isinstance(right, str) else "an integer"
        return (
            f"`{path}` is {show(value)}, but {where} wants {kind}: write {show(right)}.",
            Fix(f"Write {show(right)}", [_set(path, right)], safe=True),
        )
    close = nearest(seconds if seconds is not None else value, allowed)
    hint = f"; the nearest is {show(close)}" if close is not None else ""
    fix = Fix(f"Use {show(close)}", [_set(path, close)], safe=False) if close is not None else None
    return (
        f"`{path}` is {show(value)}, which {where} does not offer; allowed: "
        f"{_range_text(allowed)}{hint}.",
        fix,
    )


@check("KP105")
def multi_shot_limits(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Shot count, shot durations, their total and shot prompt length, from the catalog."""
    shots = ctx.arguments.get("multi_prompt")
    info = endpoint(ctx)
    if info is None or not isinstance(shots, list) or "multi_prompt" not in info.fields:
        return
    limits = info.capabilities.multi_shot_limits or {}
    name = short_id(info.id)
    low = limits.get("min_shots")
    high = limits.get("max_shots", info.fields["multi_prompt"].max_items)
    if low is not None and len(shots) < low:
        yield ctx.report(
            meta,
            f"`multi_prompt` has {len(shots)} shots; {name} needs at least {low}. Add a shot or "
            "send a single `prompt` instead.",
            field="multi_prompt",
        )
    if high is not None and len(shots) > high:
        yield ctx.report(
            meta,
            f"`multi_prompt` has {len(shots)} shots; {name} takes at most {high}. Merge or drop "
            f"{len(shots) - high} of them.",
            field=f"multi_prompt[{high}]",
        )
    duration_field = _shot_field(info)
    seconds: list[int | None] = []
    max_chars = limits.get("shot_prompt_max_chars")
    for i, shot in enumerate(shots):
        if not isinstance(shot, Mapping):
            seconds.append(None)
            continue
        text = shot.get("prompt")
        if isinstance(text, str) and max_chars is not None and len(text) > max_chars:
            yield ctx.report(
                meta,
                f"Shot {i + 1}'s prompt is {len(text)} characters; Kling takes at most {max_chars} "
                "per shot. Shorten it or split the shot.",
                field=f"multi_prompt[{i}].prompt",
                start=max_chars,
                end=len(text),
            )
        value = shot.get("duration")
        if value is None and duration_field is not None and duration_field.has_default:
            value = duration_field.default
        if value is None:
            seconds.append(None)
            continue
        if duration_field is not None and "duration" in shot:
            path = f"multi_prompt[{i}].duration"
            problem = duration_problem(path, value, duration_field, f"a shot on {name}")
            if problem is not None:
                message, fix = problem
                yield ctx.report(meta, message, field=path, fix=fix)
        seconds.append(whole_seconds(value))
    if not shots or any(s is None for s in seconds):
        return
    total = sum(s for s in seconds if s is not None)
    cap = limits.get("max_total_seconds")
    if cap is not None and total > cap:
        yield ctx.report(
            meta,
            f"The shots last {total} s in total; {name} allows at most {cap} s. Shorten or drop "
            "shots.",
            field="multi_prompt",
        )
        return
    duration = info.fields.get("duration")
    requested = ctx.arguments.get("duration", info.capabilities.duration_default)
    wanted = whole_seconds(requested)
    if duration is None or wanted is None or wanted == total:
        return
    allowed = _allowed(duration) or []
    offered = [whole_seconds(a) for a in allowed]
    fix = None
    if total in offered:
        right = _typed(total, allowed, duration)
        fix = Fix(f"Set duration to {show(right)}", [_set("duration", right)], safe=False)
    source = "`duration`" if "duration" in ctx.arguments else "the default `duration`"
    yield ctx.report(
        meta,
        f"The shots add up to {total} s but {source} is {show(requested)}; the shot durations "
        f"must add up to the video's duration. Set `duration` to {total} or change the shots.",
        field="duration" if "duration" in ctx.arguments else "multi_prompt",
        fix=fix,
    )


@check("KP113")
def shot_type_mismatch(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """``shot_type`` must agree with ``multi_prompt``; fal spells the automatic mode its own way."""
    value = ctx.arguments.get("shot_type")
    info = endpoint(ctx)
    if not isinstance(value, str) or info is None:
        return
    field = info.fields.get("shot_type")
    if field is None:
        return
    enum = field.enum or ()
    spellings: Mapping[str, str] = ctx.option(meta, "native_spellings", {}) or {}
    native = spellings.get(value)
    if native is not None and native in enum and value not in enum:
        yield ctx.report(
            meta,
            f"shot_type {show(value)} is the native Kling API's spelling; fal accepts "
            f"{choices(list(enum))}. Write {show(native)}.",
            field="shot_type",
            fix=Fix(f"Write {show(native)}", [_set("shot_type", native)], safe=True),
        )
        return
    shots = _present(ctx.arguments, "multi_prompt")
    needs: Sequence[str] = ctx.option(meta, "requires_multi_prompt", ()) or ()
    forbids: Sequence[str] = ctx.option(meta, "forbids_multi_prompt", ()) or ()
    if value in needs and not shots:
        other = next((v for v in enum if v in forbids), None)
        hint = f", or set it to {show(other)} to let the model cut the shots" if other else ""
        yield ctx.report(
            meta,
            f"shot_type {show(value)} means you define the shots in `multi_prompt`, but there is "
            f"none; add `multi_prompt`{hint}.",
            field="shot_type",
        )
    elif value in forbids and shots:
        other = next((v for v in enum if v in needs), None)
        fix = Fix(f"Write {show(other)}", [_set("shot_type", other)], safe=False) if other else None
        yield ctx.report(
            meta,
            f"shot_type {show(value)} lets the model choose the shots, yet `multi_prompt` defines "
            f"them; set shot_type to {show(other)} or drop `multi_prompt`.",
            field="shot_type",
            fix=fix,
        )


# -- KP106-KP110: fields and values --------------------------------------------------------------


@check("KP106")
def invalid_duration(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Durations are string enums on most endpoints and integers on v4; fal checks both."""
    if "duration" not in ctx.arguments:
        return
    info = endpoint(ctx)
    field = info.fields.get("duration") if info is not None else None
    if info is None or field is None:
        return
    problem = duration_problem("duration", ctx.arguments["duration"], field, short_id(info.id))
    if problem is not None:
        message, fix = problem
        yield ctx.report(meta, message, field="duration", fix=fix)


def _unknown_endpoint(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    wanted = ctx.endpoint
    if not isinstance(wanted, str) or not wanted:
        return
    known = catalog.endpoint_ids()
    if wanted in known:
        return
    from difflib import get_close_matches

    close = get_close_matches(wanted, known, n=3, cutoff=0.5)
    hint = (
        f"; did you mean {' or '.join(close)}?"
        if close
        else "; run 'kling-prompt endpoints' to list them."
    )
    yield ctx.report(
        meta,
        f"Unknown endpoint {show(wanted)}: no Kling endpoint on fal has this id{hint}",
        field="endpoint",
    )


def _valid_choice(field: FieldInfo, value: Any) -> bool:
    enum = field.enum
    return enum is not None and value in enum and type(value) is type(enum[0])


# The quick tests of KP107-KP111, each a necessary condition for its rule to report: when one
# passes (the common case) the rule returns at once. The shared gate pre-check runs all five in
# one call, so a request whose fields all pass never calls the five rules.


def _choices_ok(args: Mapping[str, Any], facts: PayloadFacts) -> bool:
    """KP107: every enum value is valid (nothing to report whatever the options say)."""
    return all_pass(facts.choices, args, _valid_choice)


def _ranges_ok(args: Mapping[str, Any], facts: PayloadFacts) -> bool:
    """KP108: every number, capped text and list fits (whatever the options skip)."""
    return all_pass(facts.ranges, args, _in_range)


def _fields_known(args: Mapping[str, Any], facts: PayloadFacts) -> bool:
    """KP109: every field and nested field is one the endpoint has."""
    return args.keys() <= facts.field_names and (
        facts.nested_names.isdisjoint(args) or facts.nested_known(args)
    )


def _required_given(args: Mapping[str, Any], info: EndpointInfo, facts: PayloadFacts) -> bool:
    """KP110: every required field, top level and in nested objects, is given."""
    for key in info.required:
        if args.get(key) is None:
            return False
    for name, required in facts.nested_required.items():
        if name in args:
            for item in entries(args[name]):
                for key in required:
                    if item.get(key) is None:
                        return False
    return True


def _features_ok(ctx: Context, info: EndpointInfo, facts: PayloadFacts) -> bool:
    """KP111: no unknown field claims a capability, no voice where voices cannot go, and a
    motion-control request goes to a motion-control endpoint."""
    args = ctx.arguments
    return (
        args.keys() <= facts.field_names  # feature_claim looks at unknown fields only
        and (facts.voiceless.isdisjoint(args) or not facts.voice_requested(args))
        and (ctx.request.mode != "motion-control" or info.mode == "motion-control")
    )


@gate_check("payload-fields")
def payload_fields(ctx: Context) -> bool:
    """Whether KP107-KP111 may report on the request (their ``when: {check: ...}``)."""
    info = endpoint(ctx)
    if info is None:
        return bool(ctx.endpoint)  # KP107 names an unknown endpoint; the others need a known one
    args = ctx.arguments
    facts = PAYLOAD_FACTS.get(info)
    simple = facts.simple
    for name, value in args.items():
        if name not in simple:
            break
        cap = simple[name]
        if cap is not None and isinstance(value, str) and len(value) > cap:
            return True
    else:  # only simple fields (most requests: a prompt, an image): required and mode remain
        for key in info.required:
            if args.get(key) is None:
                return True
        return ctx.request.mode == "motion-control" and info.mode != "motion-control"
    return not (
        _choices_ok(args, facts)
        and _ranges_ok(args, facts)
        and _fields_known(args, facts)
        and _required_given(args, info, facts)
        and _features_ok(ctx, info, facts)
    )


@check("KP107")
def invalid_choice(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """Enum fields (top level and nested) must hold one of the endpoint's values."""
    info = endpoint(ctx)
    if info is None:
        return _unknown_endpoint(ctx, meta) if ctx.endpoint else ()
    if _choices_ok(ctx.arguments, PAYLOAD_FACTS.get(info)):
        return ()
    return _invalid_choices(ctx, meta, info)


def _invalid_choices(ctx: Context, meta: RuleMeta, info: EndpointInfo) -> Iterator[Diagnostic]:
    skip = set(ctx.option(meta, "skip_fields", ()) or ())
    deferred: Mapping[str, Sequence[Any]] = ctx.option(meta, "deferred_values", {}) or {}
    for path, field, value in walk(info.fields, ctx.arguments):
        if field.enum is None or value is None or field.name in skip:
            continue
        if _valid_choice(field, value):
            continue
        if value in deferred.get(field.name, ()):
            continue
        allowed = [v for v in field.enum if v is not None]
        exact = next(
            (v for v in allowed if str(v).strip().lower() == str(value).strip().lower()), None
        )
        if exact is not None:
            yield ctx.report(
                meta,
                f"`{path}` is {show(value)}; {short_id(info.id)} expects exactly {show(exact)}.",
                field=path,
                fix=Fix(f"Write {show(exact)}", [_set(path, exact)], safe=True),
            )
            continue
        close = nearest(value, allowed) if isinstance(value, str) else None
        hint = f" Did you mean {show(close)}?" if close is not None else ""
        fix = (
            Fix(f"Use {show(close)}", [_set(path, close)], safe=False)
            if close is not None
            else None
        )
        yield ctx.report(
            meta,
            f"`{path}` is {show(value)}, which {short_id(info.id)} does not accept; allowed: "
            f"{choices(allowed)}.{hint}",
            field=path,
            fix=fix,
        )


def _in_range(field: FieldInfo, value: Any) -> bool:
    """Whether KP108 has nothing to say about the value of a field :func:`_has_range` accepts."""
    kind = field.type
    if kind == "string":
        return not isinstance(value, str) or len(value) <= cast(int, field.max_length)
    if kind == "array":
        if not isinstance(value, list):
            return True
        high, low = field.max_items, field.min_items
        return (high is None or len(value) <= high) and (low is None or len(value) >= low)
    # A number: a finite int or float (a whole one for integers) within the bounds. Huge ints
    # go to the full check, whose float() conversion may fail on them.
    number_type = type(value)
    if number_type is float:
        if not (value.is_integer() if kind == "integer" else math.isfinite(value)):
            return False
    elif number_type is not int or not -_EXACT <= value <= _EXACT:
        return False
    low_bound, high_bound = field.minimum, field.maximum
    return (low_bound is None or value >= low_bound) and (high_bound is None or value <= high_bound)


_EXACT = 2**53


@check("KP108")
def out_of_range(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """Numbers within the schema's minimum/maximum, strings and lists within their length caps."""
    info = endpoint(ctx)
    if info is None or _ranges_ok(ctx.arguments, PAYLOAD_FACTS.get(info)):
        return ()
    return _out_of_range(ctx, meta, info)


def _out_of_range(ctx: Context, meta: RuleMeta, info: EndpointInfo) -> Iterator[Diagnostic]:
    skip = set(ctx.option(meta, "skip_fields", ()) or ())
    skip_items = set(ctx.option(meta, "skip_item_counts", ()) or ())
    skip_text = set(ctx.option(meta, "skip_text_lengths", ()) or ())
    name = short_id(info.id)
    for path, field, value in walk(info.fields, ctx.arguments):
        if value is None or field.name in skip:
            continue
        if field.type in ("number", "integer") and field.enum is None:
            yield from _numeric(ctx, meta, path, field, value, name)
        elif (
            field.type == "string" and field.max_length is not None and field.name not in skip_text
        ):
            if isinstance(value, str) and len(value) > field.max_length:
                yield ctx.report(
                    meta,
                    f"`{path}` is {len(value)} characters; {name} takes at most "
                    f"{field.max_length}. Shorten it.",
                    field=path,
                    start=field.max_length,
                    end=len(value),
                )
        elif field.type == "array" and isinstance(value, list) and field.name not in skip_items:
            if field.max_items is not None and len(value) > field.max_items:
                yield ctx.report(
                    meta,
                    f"`{path}` has {len(value)} items; {name} takes at most {field.max_items}. "
                    f"Drop {len(value) - field.max_items}.",
                    field=f"{path}[{field.max_items}]",
                )
            elif field.min_items is not None and len(value) < field.min_items:
                yield ctx.report(
                    meta,
                    f"`{path}` has {len(value)} items; {name} needs at least {field.min_items}.",
                    field=path,
                )


def _numeric(
    ctx: Context, meta: RuleMeta, path: str, field: FieldInfo, value: Any, name: str
) -> Iterator[Diagnostic]:
    number = _number(value)
    integer = field.type == "integer"
    wrong_type = isinstance(value, (bool, str)) or not isinstance(value, (int, float))
    if integer and isinstance(value, float) and not isinstance(value, bool):
        wrong_type = not value.is_integer()
    if number is None:
        yield ctx.report(
            meta,
            f"`{path}` is {show(value)}; {name} wants {'an integer' if integer else 'a number'}"
            f"{_bounds(field)}.",
            field=path,
        )
        return
    low, high = field.minimum, field.maximum
    if (low is not None and number < low) or (high is not None and number > high):
        clamped = min(
            max(number, low if low is not None else number), high if high is not None else number
        )
        right: Any = int(clamped) if integer else clamped
        yield ctx.report(
            meta,
            f"`{path}` is {show(value)}, outside {name}'s range{_bounds(field)}; use a value in "
            f"range such as {show(right)}.",
            field=path,
            fix=Fix(f"Use {show(right)}", [_set(path, right)], safe=False),
        )
        return
    if wrong_type:
        if integer and not number.is_integer():
            yield ctx.report(
                meta, f"`{path}` is {show(value)}; {name} wants a whole number.", field=path
            )
            return
        right = int(number) if integer else number
        yield ctx.report(
            meta,
            f"`{path}` is {show(value)}, a {type(value).__name__}; {name} wants the number "
            f"{show(right)}.",
            field=path,
            fix=Fix(f"Write {show(right)}", [_set(path, right)], safe=True),
        )


def _bounds(field: FieldInfo) -> str:
    if field.minimum is not None and field.maximum is not None:
        return f" ({show(field.minimum)} to {show(field.maximum)})"
    if field.minimum is not None:
        return f" (at least {show(field.minimum)})"
    if field.maximum is not None:
        return f" (at most {show(field.maximum)})"
    return ""


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


def suggest_fields(info: EndpointInfo, name: str) -> list[str]:
    """This endpoint's names for the input ``name`` stands for elsewhere, or close spellings."""
    out: list[str] = []
    for role in sorted(catalog.field_roles(name)):
        for candidate in (role, RELATED_ROLES.get(role)):
            target = info.roles.get(candidate) if candidate else None
            if target and target != name and target not in out:
                out.append(target)
    if not out:
        from difflib import get_close_matches

        out = get_close_matches(name, list(info.fields), n=2, cutoff=0.75)
    return out


@check("KP109")
def unknown_field(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """Fields the endpoint does not accept: fal may drop them silently, so the request lies."""
    info = endpoint(ctx)
    if info is None or not info.schema_complete:
        return ()
    if _fields_known(ctx.arguments, PAYLOAD_FACTS.get(info)):
        return ()
    return _unknown_fields(ctx, meta, info)


def _unknown_fields(ctx: Context, meta: RuleMeta, info: EndpointInfo) -> Iterator[Diagnostic]:
    args = ctx.arguments
    name = short_id(info.id)
    for key, value in args.items():
        if key in info.fields or feature_claim(info, key, value) is not None:
            continue
        yield _unknown(ctx, meta, info, "", key, value, suggest_fields(info, key), name)
    for path, type_name, obj in nested_objects(info, args):
        fields = _type_fields(type_name)
        if fields is None:
            continue
        for key in obj:
            if key in fields:
                continue
            if key == "voice_id" and not info.capabilities.has("voices") and given(obj[key]):
                continue  # KP111: voices on a model without voice support
            from difflib import get_close_matches

            close = get_close_matches(key, list(fields), n=2, cutoff=0.75)
            yield _unknown(ctx, meta, info, f"{path}.", key, obj[key], close, name, obj, fields)


def _unknown(
    ctx: Context,
    meta: RuleMeta,
    info: EndpointInfo,
    parent: str,
    key: str,
    value: Any,
    suggestions: list[str],
    name: str,
    siblings: Mapping[str, Any] | None = None,
    fields: Mapping[str, FieldInfo] | None = None,
) -> Diagnostic:
    path = parent + key
    nested = fields is not None
    known = fields if fields is not None else info.fields
    removed = None if nested else info.removed_fields.get(key)
    why = f" (it was removed from this endpoint on {removed})" if removed else ""
    if key == "duration" and not nested and info.capabilities.output_seconds == "input":
        why = " (the output length follows the input video)"
    present = siblings if siblings is not None else ctx.arguments
    delete = Fix(f"Remove {path}", [_delete(path)], safe=False)
    if len(suggestions) == 1 and "[" not in suggestions[0]:
        target = parent + suggestions[0]
        hint = f" Did you mean `{target}`?"
        fix = (
            delete
            if suggestions[0] in present
            else Fix(f"Rename {path} to {target}", [_set(target, value), _delete(path)], safe=True)
        )
    elif suggestions:
        hint = " This endpoint takes " + " or ".join(f"`{s}`" for s in suggestions) + " instead."
        fix = delete
    else:
        hint = f" Remove it; {name} accepts: {', '.join(known)}."
        fix = delete
    plain = _PLAIN_KEY.fullmatch(key) is not None  # "a.b" or "x[0]" is no field path
    return ctx.report(
        meta,
        f"{name} has no input `{path}`{why}; fal ignores or rejects it.{hint}",
        field=path if plain else None,
        fix=fix if plain else None,
    )


@check("KP110")
def missing_field(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """Required inputs, top level and inside nested objects (shots, elements, camera moves)."""
    info = endpoint(ctx)
    if info is None or _required_given(ctx.arguments, info, PAYLOAD_FACTS.get(info)):
        return ()
    return _missing_fields(ctx, meta, info)


def _missing_fields(ctx: Context, meta: RuleMeta, info: EndpointInfo) -> Iterator[Diagnostic]:
    args = ctx.arguments
    name = short_id(info.id)
    for key in info.required:
        if args.get(key) is not None:
            continue
        alias = next(
            (
                given_name
                for given_name in args
                if given_name not in info.fields and key in suggest_fields(info, given_name)
            ),
            None,
        )
        hint = f" The request has `{alias}`: {name} calls it `{key}`." if alias else ""
        yield ctx.report(
            meta,
            f"{name} requires `{key}`, which is missing.{hint} Add `{key}`.",
            field=alias,
        )
    for path, type_name, obj in nested_objects(info, args):
        try:
            required = catalog.shared_type(type_name).required
        except LookupError:
            continue
        for key in required:
            if obj.get(key) is None:
                yield ctx.report(
                    meta,
                    f"`{path}` has no `{key}`, which {name} requires in each entry; add it.",
                    field=path,
                )


# -- KP111: capabilities -------------------------------------------------------------------------


_FEATURE_TEXT = {
    "native_audio": "native audio",
    "voices": "voices",
    "multi_shot": "multi-shot (multi_prompt, shot_type)",
    "end_frame": "an end frame",
    "elements": "elements",
    "motion-control": "motion control",
}


@check("KP111")
def unsupported_feature(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """A capability the model lacks, named with endpoints that have it."""
    info = endpoint(ctx)
    if info is None or _features_ok(ctx, info, PAYLOAD_FACTS.get(info)):
        return ()
    return _unsupported(ctx, meta, info)


def _unsupported(ctx: Context, meta: RuleMeta, info: EndpointInfo) -> Iterator[Diagnostic]:
    name = short_id(info.id)
    if ctx.request.mode == "motion-control" and info.mode != "motion-control":
        yield _feature(ctx, meta, info, "motion-control", None, name)
    for key, value in ctx.arguments.items():
        feature = feature_claim(info, key, value)
        if feature is not None:
            yield _feature(ctx, meta, info, feature, key, name)
    if info.capabilities.voices is None:
        for path, _type, obj in nested_objects(info, ctx.arguments):
            if given(obj.get("voice_id")) and "voice_id" not in (_type_fields(_type) or {}):
                yield _feature(ctx, meta, info, "voices", f"{path}.voice_id", name)


def _feature(
    ctx: Context, meta: RuleMeta, info: EndpointInfo, feature: str, path: str | None, name: str
) -> Diagnostic:
    others = [short_id(e) for e in suggest_endpoints(info, feature)]
    where = f" Use an endpoint that has it, such as {', '.join(others)}." if others else ""
    subject = (
        f"`{path}` asks for {_FEATURE_TEXT[feature]}"
        if path
        else f"The request asks for {_FEATURE_TEXT[feature]}"
    )
    fix = Fix(f"Remove {path}", [_delete(path)], safe=False) if path else None
    return ctx.report(
        meta,
        f"{subject}, which {name} ({info.family}, {info.mode}) does not support; fal would "
        f"ignore or reject it.{where}",
        field=path,
        fix=fix,
    )


# -- KP112: media --------------------------------------------------------------------------------

_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "JPG"),
    (0, b"\x89PNG\r\n\x1a\n", "PNG"),
    (0, b"GIF87a", "GIF"),
    (0, b"GIF89a", "GIF"),
    (0, b"\x1a\x45\xdf\xa3", "WEBM"),
)
_FTYP = {b"avif": "AVIF", b"avis": "AVIF", b"qt  ": "MOV", b"M4V ": "M4V", b"M4VH": "M4V"}
_EXTENSIONS = {"JPEG": "JPG", "JFIF": "JPG", "MKV": "WEBM"}


def sniff_format(head: bytes, suffix: str) -> str | None:
    """The container format from the first bytes, else from the file extension."""
    for offset, magic, fmt in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return fmt
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        return _FTYP.get(head[8:12], "MP4")
    ext = suffix.lstrip(".").upper()
    return _EXTENSIONS.get(ext, ext) or None


def local_path(value: Any, base: str | None) -> Path | None:
    """A local file named by a media argument (URLs and data URIs are never fetched)."""
    if not isinstance(value, str) or not value or len(value) > 4096 or "\x00" in value:
        return None
    text = value.strip()
    if text.startswith("file://"):
        text = text[7:]
    elif "://" in text or text.startswith("data:"):
        return None
    try:
        from pathlib import Path

        path = Path(text).expanduser()
        if not path.is_absolute() and base and base != "-":
            path = Path(base).parent / path
        return path if path.is_file() else None
    except (OSError, ValueError, RuntimeError):
        return None


def data_uri(value: Any, limit: int) -> tuple[str, bytes] | None:
    """The media type and bytes of a base64 ``data:`` URI (fal accepts them for file inputs)."""
    if not isinstance(value, str) or not value.startswith("data:") or len(value) > limit:
        return None
    header, sep, payload = value.partition(",")
    if not sep or not header.endswith(";base64"):
        return None
    try:
        import base64
        import binascii

        raw = base64.b64decode(payload, validate=False)
    except (ValueError, binascii.Error):
        return None
    return header[5:].split(";", 1)[0], raw


def probe(source: Path | bytes, kind: str, suffix: str = "") -> dict[str, Any]:
    """Format, size, pixel size and (video files) duration; facts it cannot get are left out."""
    facts: dict[str, Any] = {}
    if isinstance(source, bytes):
        facts["size"] = len(source)
        head = source[:16]
    else:
        try:
            facts["size"] = source.stat().st_size
            with source.open("rb") as handle:
                head = handle.read(16)
        except OSError:
            return facts
        suffix = source.suffix
    fmt = sniff_format(head, suffix)
    if fmt:
        facts["format"] = fmt
    if kind == "image":
        facts.update(_image_size(source))
    elif not isinstance(source, bytes):
        facts.update(_video_facts(source))
    return facts


def _image_size(source: Path | bytes) -> dict[str, Any]:
    try:
        from PIL import Image
    except ImportError:
        return {}
    try:
        import io

        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            width, height = image.size
    except Exception:  # any decoder error: not an image Pillow can measure
        return {}
    return {"width": width, "height": height}


def _video_facts(path: Path) -> dict[str, Any]:
    try:
        from hachoir.core import config as hachoir_config
        from hachoir.metadata import extractMetadata
        from hachoir.parser import createParser
    except ImportError:
        return {}
    hachoir_config.quiet = True
    facts: dict[str, Any] = {}
    try:
        parser = createParser(str(path))
        if parser is None:
            return facts
        with parser:
            metadata = extractMetadata(parser)
        if metadata is None:
            return facts
        if metadata.has("duration"):
            facts["duration"] = metadata.get("duration").total_seconds()
        if metadata.has("width") and metadata.has("height"):
            facts["width"] = int(metadata.get("width"))
            facts["height"] = int(metadata.get("height"))
    except Exception:  # hachoir raises many kinds of errors on odd files
        pass
    return facts


def _media_fields(
    info: EndpointInfo, args: Mapping[str, Any]
) -> Iterator[tuple[str, Any, str, dict[str, Any]]]:
    """``(path, value, kind, spec)`` of every media argument: kind, formats and limits."""
    consts = catalog.constants()
    media = info.capabilities.media
    for key, spec in media.items():
        value = args.get(key)
        kind = str(spec.get("kind", "image"))
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield f"{key}[{i}]", item, kind, spec
        elif value is not None:
            yield key, value, kind, spec
    for path, field, value in walk(info.fields, args):
        if "." not in path or not field.file or value is None:
            continue
        kind = "video" if "video" in field.name else "image"
        spec = {
            "kind": kind,
            "formats": consts.get(f"{kind}_formats", []),
            "limits": field.file_limits or {},
        }
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield f"{path}[{i}]", item, kind, spec
        else:
            yield path, value, kind, spec


def _remote(value: Any) -> bool:
    """Whether KP112 learns nothing from a media value: not a string, or a URL it never fetches
    (anything with ``://`` but a ``file://`` path or a ``data:`` URI)."""
    if not isinstance(value, str):
        return True
    return (
        "://" in value and not value.startswith("data:") and not value.strip().startswith("file://")
    )


def _remote_media(value: Any) -> bool:
    """:func:`_remote` for a media argument and, when it is a list, for each of its items."""
    if isinstance(value, list):
        return all(_remote(item) for item in value)
    return _remote(value)


def _remote_file(field: FieldInfo, value: Any) -> bool:
    return _remote_media(value)


@check("KP112")
def media_limits(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """Local media (probed) and media described by explicit metadata, against the schema's limits."""
    info = endpoint(ctx)
    if info is None or not info.capabilities.media:
        return ()
    explicit: Mapping[str, Any] = ctx.option(meta, "media", {}) or {}
    args = ctx.arguments
    if (
        not explicit
        and all(_remote_media(args.get(key)) for key in info.capabilities.media)
        and all_pass(PAYLOAD_FACTS.get(info).media, args, _remote_file)
    ):
        return ()  # only remote URLs (or no media): no facts to judge
    return _media_limits(ctx, meta, info, explicit)


def _media_limits(
    ctx: Context, meta: RuleMeta, info: EndpointInfo, explicit: Mapping[str, Any]
) -> Iterator[Diagnostic]:
    base = ctx.request.path
    limit = int(ctx.option(meta, "max_data_uri_chars", 30_000_000))
    name = short_id(info.id)
    for path, value, kind, spec in _media_fields(info, ctx.arguments):
        facts: dict[str, Any] = {}
        inline = data_uri(value, limit)
        if inline is not None:
            mime, raw = inline
            facts = probe(raw, kind, "." + mime.rsplit("/", 1)[-1])
        else:
            local = local_path(value, base)
            if local is not None:
                facts = probe(local, kind)
        if isinstance(value, str) and isinstance(explicit.get(value), Mapping):
            facts.update(explicit[value])
        if facts:
            yield from _media_problems(ctx, meta, path, kind, spec, facts, name)


def _media_problems(
    ctx: Context,
    meta: RuleMeta,
    path: str,
    kind: str,
    spec: Mapping[str, Any],
    facts: Mapping[str, Any],
    name: str,
) -> Iterator[Diagnostic]:
    formats = [str(f).upper() for f in spec.get("formats") or ()]
    fmt = facts.get("format")
    if isinstance(fmt, str) and formats:
        fmt = _EXTENSIONS.get(fmt.upper(), fmt.upper())
        if fmt not in formats:
            yield ctx.report(
                meta,
                f"`{path}` is a {fmt} file; {name} accepts {kind}s as {', '.join(formats)}. "
                "Convert it first.",
                field=path,
            )
    limits: Mapping[str, Any] = spec.get("limits") or {}
    size = _number(facts.get("size"))
    cap = _number(limits.get("max_file_size"))
    if size is not None and cap is not None and size > cap:
        yield ctx.report(
            meta,
            f"`{path}` is {size / 1048576:.1f} MB; {name} accepts at most {cap / 1048576:.0f} MB. "
            "Compress or shorten it.",
            field=path,
        )
    width, height = _number(facts.get("width")), _number(facts.get("height"))
    if width is not None and height is not None and width > 0 and height > 0:
        problems = []
        for label, actual, low_key, high_key in (
            ("width", width, "min_width", "max_width"),
            ("height", height, "min_height", "max_height"),
        ):
            low, high = _number(limits.get(low_key)), _number(limits.get(high_key))
            if low is not None and actual < low:
                problems.append(f"{label} {actual:.0f} px is under {low:.0f} px")
            if high is not None and actual > high:
                problems.append(f"{label} {actual:.0f} px is over {high:.0f} px")
        ratio = width / height
        low, high = _number(limits.get("min_aspect_ratio")), _number(limits.get("max_aspect_ratio"))
        if (low is not None and ratio < low) or (high is not None and ratio > high):
            problems.append(f"aspect ratio {ratio:.2f} is outside {low or 0:g}..{high or 0:g}")
        if problems:
            yield ctx.report(
                meta,
                f"`{path}` is {width:.0f}x{height:.0f}: {'; '.join(problems)} ({name}'s limits). "
                "Resize or crop it.",
                field=path,
            )
    seconds = _number(facts.get("duration"))
    if kind != "video" or seconds is None:
        return
    low, high = _number(limits.get("min_duration")), _number(limits.get("max_duration"))
    reason = ""
    orientation = ctx.arguments.get("character_orientation")
    by_orientation = spec.get("orientation_seconds") or {}
    if isinstance(orientation, str) and orientation in by_orientation:
        low, high = (float(x) for x in by_orientation[orientation])
        reason = f" with character_orientation {show(orientation)}"
    if (low is not None and seconds < low) or (high is not None and seconds > high):
        yield ctx.report(
            meta,
            f"`{path}` lasts {seconds:.1f} s; {name} takes {low or 0:g} to {high or 0:g} s"
            f"{reason}. Trim the video{' or switch the orientation' if reason else ''}.",
            field=path,
        )


# -- KP114: budget -------------------------------------------------------------------------------


@check("KP114")
def over_budget(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """The catalog's cost estimate against the configured budget; unknown prices stay silent."""
    raw = ctx.option(meta, "budget")
    if raw is None:
        return ()  # no budget (the default)
    return _over_budget(ctx, meta, raw)


def _over_budget(ctx: Context, meta: RuleMeta, raw: Any) -> Iterator[Diagnostic]:
    budget = _number(raw)
    info = endpoint(ctx)
    if budget is None or info is None:
        return
    from kling_prompt.catalog import estimate_cost

    overrides = getattr(ctx.config, "prices", None) or None
    try:
        estimate = estimate_cost(info.id, ctx.arguments, overrides=overrides)
    except Exception:  # bad price overrides are reported by the config loader
        estimate = estimate_cost(info.id, ctx.arguments)
    if estimate.usd is None or estimate.usd <= budget:
        return
    yield ctx.report(
        meta,
        f"This request is estimated at ${estimate.usd:.2f} ({estimate.basis}), over the budget of "
        f"${budget:.2f}. Shorten `duration`, turn audio off, pick a cheaper tier or raise `budget`.",
        field="duration" if "duration" in ctx.arguments else None,
        usd=estimate.usd,
        budget=budget,
    )
