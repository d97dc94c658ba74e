"""The fast paths of the payload and reference rules (KP1xx, KP2xx) report exactly what the full
checks report.

Each of these checks first runs a cheap test built from per-endpoint facts and returns at once
when it passes; otherwise the full check runs. These tests run the full check on many odd
payloads for every endpoint and compare, check that the ``when:`` argument lists of KP204-KP206
name every argument the catalog gives those rules to count, and that the rewritten reference
regexes match exactly what the original ones did.
"""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from kling_prompt.catalog import data as catalog
from kling_prompt.catalog.data import EndpointInfo, FieldInfo
from kling_prompt.linter import Config, Linter
from kling_prompt.linter.checks import payload, references
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.loader import load_documents
from kling_prompt.linter.rules import Context, RuleMeta
from kling_prompt.request import Request

_LINTER = Linter(Config())
_PNG = (
    "data:image/png;base64,"
    + base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
        )
    ).decode()
)
_MODES = [None, "text-to-video", "image-to-video", "motion-control", "reference-to-video"]


def _context(info: EndpointInfo, arguments: dict[str, Any], mode: str | None) -> Context:
    request = Request(info.id, arguments, mode=mode)
    ctx = Context(
        request,
        info=info,
        mode=mode or info.mode,
        family=info.family,
        matcher=_LINTER.matcher,
        config=_LINTER.config,
    )
    ctx.options = _LINTER._options
    ctx.severity = _LINTER.severity
    return ctx


# -- odd payloads ---------------------------------------------------------------------------------


def _value(field: FieldInfo, rng: random.Random, depth: int = 0) -> Any:
    """A value for a field: often valid, often just outside what the schema allows."""
    odd: list[Any] = [None, True, "", [], {}, "x" * 5000, 10**400, float("nan"), -1, 2.5]
    if field.enum:
        good = rng.choice(field.enum)
        choices = [good, good, str(good).upper(), f" {good} ", 999, str(good) + "x"]
        if isinstance(good, str) and good.isdigit():
            choices.append(int(good))
        return rng.choice(choices + odd[:3])
    if field.type in ("number", "integer"):
        low = field.minimum if field.minimum is not None else -5
        high = field.maximum if field.maximum is not None else 5
        inside = rng.uniform(low, high)
        choices = [inside, round(inside), low, high, high + 1, low - 0.5, str(round(inside))]
        choices += [float(round(inside)), 2**60, -(2**60), float("inf")]
        return rng.choice(choices + odd)
    if field.type == "string":
        cap = field.max_length or 30
        url = "https://example.com/a.png"
        choices = [url, "a" * cap, "a" * (cap + 1), "clip.mp4", "file:///tmp/x.png"]
        choices += [_PNG, " https://e.com/b.png ", "data:text/plain,hi", "words"]
        return rng.choice(choices + odd[:4])
    if field.type == "array":
        size = rng.choice([0, 1, 2, 3, 4, 5, 8])
        low, high = field.min_items, field.max_items
        if low is not None and rng.random() < 0.3:
            size = max(0, low - 1)
        if high is not None and rng.random() < 0.3:
            size = high + rng.choice([0, 1])
        nested = field.nested
        if nested is not None and depth < 3:
            sub = catalog.shared_type(nested).fields
            return [_object(sub, rng, depth + 1) for _ in range(size)]
        item = rng.choice(["https://example.com/a.png", _PNG, "x.png", 5, None])
        return [item] * size
    if field.nested is not None and depth < 3:
        return _object(catalog.shared_type(field.nested).fields, rng, depth + 1)
    return rng.choice(odd)


def _object(fields: dict[str, FieldInfo], rng: random.Random, depth: int) -> Any:
    if rng.random() < 0.05:
        return "not an object"
    out = {name: _value(field, rng, depth) for name, field in fields.items() if rng.random() < 0.7}
    if rng.random() < 0.2:
        out["voice_id"] = rng.choice(["v1", "", None])
    if rng.random() < 0.1:
        out["unknown_key"] = 1
    return out


def _payloads(info: EndpointInfo, rng: random.Random, count: int) -> Iterable[dict[str, Any]]:
    names = list(info.fields)
    extra = ["voice_ids", "elements", "generate_audio", "multi_prompt", "end_image_url"]
    extra += ["camera_control", "image_urls", "durration", "character_orientation"]
    for _ in range(count):
        args: dict[str, Any] = {}
        if rng.random() < 0.8:
            args["prompt"] = rng.choice(["A cat.", '[Man<<<voice_2>>>]: "Hi"', "x" * 2300])
        for name in names:
            if rng.random() < 0.4:
                args[name] = _value(info.fields[name], rng)
        if rng.random() < 0.3:
            args[rng.choice(extra)] = rng.choice(
                [True, ["v1", "v2", "v3"], [{"voice_id": "v"}], "https://e.com/a.png", None]
            )
        yield args


def _full_checks(
    info: EndpointInfo,
) -> dict[str, Callable[[Context, RuleMeta], Iterable[Diagnostic]]]:
    """The full check of each rule with a fast path, as the rule runs it when that fails."""
    p, r = payload, references
    out: dict[str, Callable[[Context, RuleMeta], Iterable[Diagnostic]]] = {
        "KP107": lambda c, m: p._invalid_choices(c, m, info),
        "KP108": lambda c, m: p._out_of_range(c, m, info),
        "KP110": lambda c, m: p._missing_fields(c, m, info),
        "KP111": lambda c, m: p._unsupported(c, m, info),
        "KP204": lambda c, m: r._dangling_voices(c, m, info),
        "KP205": lambda c, m: r._unreferenced(c, m, r.REFERENCE_FACTS.get(info).inputs),
        "KP206": lambda c, m: r._too_many(c, m, info),
    }
    if info.exclusive:
        out["KP104"] = lambda c, m: p._exclusive(c, m, info)
    if info.schema_complete:
        out["KP109"] = lambda c, m: p._unknown_fields(c, m, info)
    if info.capabilities.media:
        out["KP112"] = lambda c, m: p._media_limits(c, m, info, {})
    return out


def _outcome(found: Iterable[Diagnostic]) -> tuple[list[dict[str, Any]], str | None]:
    """The diagnostics a check yields and the exception it stops with (the engine turns that
    into KP006), e.g. OverflowError for an integer too large for a float."""
    out: list[dict[str, Any]] = []
    try:
        for diag in found:
            out.append(diag.to_dict())
    except Exception as exc:
        return out, type(exc).__name__
    return out, None


@pytest.mark.parametrize("endpoint_id", catalog.endpoint_ids())
def test_fast_paths_report_what_the_full_checks_report(endpoint_id: str) -> None:
    info = catalog.get(endpoint_id)
    rng = random.Random(endpoint_id)
    checks = _LINTER.rules
    fast = {rule.meta.code: (rule.fn, rule.meta) for rule in checks if rule.fn is not None}
    full = _full_checks(info)
    reported = 0
    for args in _payloads(info, rng, 40):
        ctx = _context(info, args, rng.choice(_MODES))
        for code, slow in full.items():
            fn, meta = fast[code]
            assert fn is not None
            expected = _outcome(slow(ctx, meta))
            got = _outcome(fn(ctx, meta))
            assert got == expected, (code, args)
            reported += len(got[0])
    assert reported > 0


def test_over_budget_only_runs_with_a_budget() -> None:
    info = catalog.get("fal-ai/kling-video/v3/pro/text-to-video")
    args = {"prompt": "A cat.", "duration": "15", "generate_audio": True}
    quiet = _LINTER.lint(Request(info.id, args))
    assert not [d for d in quiet if d.code == "KP114"]
    tight = Linter(Config({"budget": 0.01})).lint(Request(info.id, args))
    assert [d.code for d in tight if d.code == "KP114"] == ["KP114"]


# -- gates ----------------------------------------------------------------------------------------


def _gate_arguments(code: str) -> tuple[set[str], list[dict[str, Any]]]:
    rules, _ = load_documents()
    when = next(doc for doc in rules if doc["code"] == code)["when"]
    return set(when.get("arguments") or ()), list(when.get("any") or ())


def test_reference_gates_name_every_counted_argument() -> None:
    kp204_any = _gate_arguments("KP204")[1]
    kp204 = {name for alt in kp204_any for name in alt.get("arguments") or ()}
    assert {"<<<voice_"} <= {t for alt in kp204_any for t in alt.get("text") or ()}
    kp205, _ = _gate_arguments("KP205")
    kp206, _ = _gate_arguments("KP206")
    for info in catalog.endpoints():
        voices = info.roles.get("voices")
        assert voices is None or voices in kp204, info.id
        inputs = {
            f for role in ("elements", "reference_images", "voices") if (f := info.roles.get(role))
        }
        assert inputs <= kp205, (info.id, inputs - kp205)
        limited = references.limited_inputs(info)
        assert limited is not None, info.id
        assert limited <= kp206, (info.id, limited)


def test_voice_cap_without_tokens_passes_the_gate() -> None:
    args = {
        "prompt": "An old man sits down.",
        "start_image_url": "https://example.com/a.png",
        "voice_ids": ["a", "b", "c"],
    }
    found = _LINTER.lint(Request("fal-ai/kling-video/v2.6/pro/image-to-video", args))
    assert [d.field for d in found if d.code == "KP204"] == ["voice_ids[2]"]


# -- KP209 regexes --------------------------------------------------------------------------------

_OLD_AT = re.compile(
    r"(?<![\w.])@[ \t]?(element|image|video)(s?)([ \t_\-]?)(\d+)?(?![A-Za-z])", re.IGNORECASE
)
_OLD_ANGLE = re.compile(
    r"<{1,5}[ \t]*(voice|element|image|video)[ \t_\-]*(\d*)[ \t]*>{0,5}", re.IGNORECASE
)


def _texts(rng: random.Random) -> Iterable[str]:
    pieces = ["@", "@ ", "@\t", "a@", ".@", " @", "<", "<<", "<<<", "<<<<<<", ">", ">>>", "_"]
    pieces += ["element", "Image", "VIDEO", "voice", "s", "1", "02", "-", " ", "x", "\n", "é@"]
    pieces += ["İmage", "@ımage", "<\t\tvoice_3>>>", "@Element1", "<<<voice_1>>>"]
    yield from ["@image1", "@Image1", "x@image1", "<voice>", "<<<<<<voice 2>>>>>>", "@"]
    for _ in range(4000):
        yield "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))


def _spans(pattern: Any, text: str) -> list[tuple[tuple[int, int], tuple[Any, ...]]]:
    return [(m.span(), m.groups()) for m in pattern.finditer(text)]


def test_reference_regexes_match_as_before() -> None:
    rng = random.Random(209)
    for text in _texts(rng):
        assert _spans(references._AT, text) == _spans(_OLD_AT, text), text
        assert _spans(references._ANGLE, text) == _spans(_OLD_ANGLE, text), text


# -- the shared pre-check of KP107-KP111 ------------------------------------------------------------

_FIELD_RULES = ("KP107", "KP108", "KP109", "KP110", "KP111")


@pytest.mark.parametrize("endpoint_id", catalog.endpoint_ids())
def test_payload_pre_check_never_hides_a_field_diagnostic(endpoint_id: str) -> None:
    """When ``payload-fields`` says no, the full checks of the five rules it gates find nothing
    (and with the rules' options emptied, so a config that skips less is covered too)."""
    info = catalog.get(endpoint_id)
    rng = random.Random("pre-check " + endpoint_id)
    metas = {rule.meta.code: rule.meta for rule in _LINTER.rules}
    full = _full_checks(info)
    quiet = loud = 0
    payloads = list(_payloads(info, rng, 60))
    # Valid requests too: the required fields with their first allowed or in-range values.
    plain: dict[str, Any] = {"prompt": "A cat walks."} if "prompt" in info.fields else {}
    for name in info.required:
        field = info.fields[name]
        if field.enum:
            plain[name] = field.enum[0]
        elif field.type == "array":
            plain[name] = ["https://e.com/a.png"] * max(1, field.min_items or 0)
        else:
            plain[name] = plain.get(name, "https://e.com/a.png")
    payloads += [plain, {**plain, "prompt": "x" * 20}]
    for args in payloads:
        ctx = _context(info, args, rng.choice(_MODES))
        ctx.options = {
            code: {
                "skip_fields": [],
                "skip_text_lengths": [],
                "skip_item_counts": [],
                "deferred_values": {},
            }
            for code in _FIELD_RULES
        }
        if payload.payload_fields(ctx):
            loud += 1
            continue
        quiet += 1
        for code in _FIELD_RULES:
            if code in full:
                assert _outcome(full[code](ctx, metas[code])) == ([], None), (code, args)
    assert loud > 0
    assert quiet > 0 or info.mode == "effects", endpoint_id


def test_payload_pre_check_on_unknown_and_missing_endpoints() -> None:
    request = Request("fal-ai/kling-video/v9/unknown", {"prompt": "A cat."})
    ctx = Context(request, info=None, mode=None, family=None, matcher=None, config=None)
    assert payload.payload_fields(ctx)  # KP107 names the unknown endpoint
    assert [d.code for d in _LINTER.lint(request) if d.code == "KP107"] == ["KP107"]
    ctx = Context(
        Request(None, {"prompt": "A cat."}, mode="text-to-video"),
        info=None,
        mode="text-to-video",
        family=None,
        matcher=None,
        config=None,
    )
    assert not payload.payload_fields(ctx)
