"""KP2xx: reference tokens (@ElementN, @ImageN, @VideoN, <<<voice_N>>>) against the inputs.

fal binds a token to an input by position: ``@Element2`` is ``elements[1]``. A token with no input
behind it, or an input no token names, is not an error fal reports: the model just improvises. The
inputs each endpoint has come from the catalog's roles (``elements``, ``reference_images``,
``voices``, ...). Text checks run only when the text holds ``@`` or ``<<<``; the input checks
return at once when the request holds none of the endpoint's reference inputs (gathered once per
endpoint by :class:`ReferenceFacts`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from kling_prompt.catalog.data import EndpointInfo
from kling_prompt.linter.checks.payload import (
    PerEndpoint,
    endpoint,
    given,
    short_id,
    suggest_endpoints,
)
from kling_prompt.linter.diagnostic import Diagnostic, Edit, Fix
from kling_prompt.linter.lazyre import lazy
from kling_prompt.linter.rules import Context, RuleMeta, check
from kling_prompt.linter.text import Analysis, Reference

_EXAMPLES = {
    "element": "'{} walks in'",
    "image": "'a jacket like the one in {}'",
    "voice": "'[Old man{}, calm]: \"...\"'",
}
_TOKEN_NAMES = {"element": "@Element", "image": "@Image", "video": "@Video", "voice": "<<<voice_"}


def token(kind: str, index: int) -> str:
    return f"<<<voice_{index}>>>" if kind == "voice" else f"{_TOKEN_NAMES[kind]}{index}"


def texts(ctx: Context) -> list[Analysis]:
    """The texts the model reads: the prompt and the shot prompts (not the negative prompt)."""
    return [a for a in ctx.analyses if a.kind != "negative_prompt"]


def references(ctx: Context, kind: str) -> list[tuple[Analysis, Reference]]:
    out: list[tuple[Analysis, Reference]] = []
    for a in texts(ctx):
        if "@" in a.text or "<<<" in a.text:
            out.extend((a, r) for r in a.references if r.kind == kind)
    return out


def _items(arguments: Mapping[str, Any], name: str | None) -> list[Any]:
    value = arguments.get(name) if name else None
    return value if isinstance(value, list) else []


def element_inputs(info: EndpointInfo, args: Mapping[str, Any]) -> tuple[int, str | None]:
    """How many elements the request gives, and the field that holds them (None: no such input)."""
    field = info.roles.get("elements")
    return len(_items(args, field)), field


def image_inputs(info: EndpointInfo, args: Mapping[str, Any]) -> tuple[int, str | None]:
    """Images ``@ImageN`` can name: the reference images, else the start and end frames in order."""
    field = info.roles.get("reference_images")
    if field is not None:
        return len(_items(args, field)), f"`{field}`"
    frames = [info.roles.get("start_image"), info.roles.get("end_image")]
    count = 0
    for name in frames:
        if name is None or not given(args.get(name)):
            break
        count += 1
    names = [f"`{n}`" for n in frames if n]
    return count, (" then ".join(names) or None)


def video_inputs(info: EndpointInfo, args: Mapping[str, Any]) -> tuple[int, str | None]:
    single = info.roles.get("video")
    several = info.roles.get("reference_videos")
    if several is not None:
        return len(_items(args, several)), f"`{several}`"
    if single is not None:
        return (1 if given(args.get(single)) else 0), f"`{single}`"
    return 0, None


def voice_inputs(info: EndpointInfo, args: Mapping[str, Any]) -> tuple[int, str | None]:
    """Voices ``<<<voice_N>>>`` can name: ``voice_ids``, or elements that carry a ``voice_id``."""
    field = info.roles.get("voices")
    if field is not None:
        return len(_items(args, field)), f"`{field}`"
    if info.roles.get("element_voices") is not None:
        elements = _items(args, info.roles.get("elements"))
        count = sum(1 for e in elements if isinstance(e, Mapping) and given(e.get("voice_id")))
        return count, "`elements[].voice_id`"
    return 0, None


class ReferenceFacts:
    """What the KP204-KP206 pre-checks need from one endpoint's catalog entry."""

    __slots__ = ("inputs", "limited", "voice_cap", "voices")

    def __init__(self, info: EndpointInfo) -> None:
        # KP205: the inputs a token names, by kind.
        self.inputs: tuple[tuple[str, str | None], ...] = (
            ("element", info.roles.get("elements")),
            ("image", info.roles.get("reference_images")),
            ("voice", info.roles.get("voices")),
        )
        # KP204: the voice list and its cap.
        self.voices = info.roles.get("voices")
        cap = info.capabilities.max_voices
        if cap is None and self.voices is not None:
            field = info.fields.get(self.voices)
            cap = field.max_items if field is not None else None
        self.voice_cap = cap
        self.limited = limited_inputs(info)


REFERENCE_FACTS = PerEndpoint(ReferenceFacts)


def limited_inputs(info: EndpointInfo) -> frozenset[str] | None:
    """The arguments KP206 counts on this endpoint: it reports only when one of them is a
    non-empty list. None when it may report without any (a negative or malformed cap)."""
    names: set[str] = set()
    elements = info.roles.get("elements")
    if elements:
        names.add(elements)
    for rule in info.rules:
        kind = rule.get("kind")
        if kind == "max_total":
            try:
                if int(rule.get("max", 0)) < 0:
                    return None
            except (TypeError, ValueError):
                return None
            names.update(str(f) for f in rule.get("fields", ()))
        elif kind == "max_video_elements":
            names.add(str(rule.get("field", "elements")))
        elif kind == "requires":
            names.add(str(rule.get("field", "")))
    return frozenset(names)


def _any_items(arguments: Mapping[str, Any], names: Iterable[str | None]) -> bool:
    """Whether one of the arguments ``names`` is a non-empty list."""
    for name in names:
        if name is not None and name in arguments:
            value = arguments[name]
            if isinstance(value, list) and value:
                return True
    return False


def _dangling(
    ctx: Context,
    meta: RuleMeta,
    kind: str,
    count: int,
    holder: str | None,
    feature: str | None,
    info: EndpointInfo,
) -> Iterator[Diagnostic]:
    seen: set[int] = set()
    name = short_id(info.id)
    for a, ref in references(ctx, kind):
        if ref.index < 1 or ref.index <= count or ref.index in seen:
            continue
        seen.add(ref.index)
        tok = token(kind, ref.index)
        if holder is None:
            others = [short_id(e) for e in suggest_endpoints(info, feature)] if feature else []
            where = f" such as {', '.join(others)}" if others else ""
            message = (
                f"`{tok}` binds to nothing: {name} takes no {kind} inputs. Use an endpoint "
                f"with them{where}, or describe it in words."
            )
        elif count == 0:
            message = (
                f"`{tok}` binds to nothing: the request gives no {kind}s ({holder} is empty). "
                f"Add them to {holder}, or remove the token."
            )
        elif " then " in holder:
            frames = holder.split(" then ")
            message = (
                f"`{tok}` binds to nothing: on {name} @Image1 is the start frame ({frames[0]}) and "
                f"@Image2 the end frame ({frames[-1]}); add {frames[min(ref.index, 2) - 1]} or "
                "remove the token."
            )
        else:
            message = (
                f"`{tok}` refers to {kind} {ref.index}, but {holder} gives only {count}; add "
                f"{kind} {ref.index} or use {_valid(kind, count)}."
            )
        diag = ctx.report(meta, message, field=a.field, start=ref.start, end=ref.end)
        yield soften(diag) if holder is None else diag


def soften(diag: Diagnostic) -> Diagnostic:
    """An error about an input kind the endpoint lacks altogether becomes a warning.

    The prompt was most likely written for another endpoint (plain-text prompt files are linted
    against the default endpoint), so this is a wrong-endpoint hint rather than a broken binding.
    A severity the user configured lower stays as it is.
    """
    if diag.severity == "error":
        diag.severity = "warning"
    return diag


def _valid(kind: str, count: int) -> str:
    if count == 1:
        return token(kind, 1)
    return f"{token(kind, 1)} to {token(kind, count)}"


@check("KP201")
def dangling_element(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """``@ElementN`` beyond ``elements``: the model invents the subject instead."""
    info = endpoint(ctx)
    if info is None:
        return
    count, field = element_inputs(info, ctx.arguments)
    holder = f"`{field}`" if field else None
    yield from _dangling(ctx, meta, "element", count, holder, "elements", info)


@check("KP202")
def dangling_image(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """``@ImageN`` beyond the reference images (on O1 i2v: the start and end frames)."""
    info = endpoint(ctx)
    if info is None:
        return
    count, holder = image_inputs(info, ctx.arguments)
    yield from _dangling(ctx, meta, "image", count, holder, None, info)


@check("KP203")
def dangling_video(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """``@Video1`` with no video input."""
    info = endpoint(ctx)
    if info is None:
        return
    count, holder = video_inputs(info, ctx.arguments)
    yield from _dangling(ctx, meta, "video", count, holder, None, info)


@check("KP204")
def dangling_voice(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """``<<<voice_N>>>`` beyond the voices given, and more voices than the endpoint takes."""
    info = endpoint(ctx)
    if info is None:
        return ()
    facts = REFERENCE_FACTS.get(info)
    field, cap = facts.voices, facts.voice_cap
    if field is not None and cap is not None and len(_items(ctx.arguments, field)) > cap:
        return _dangling_voices(ctx, meta, info)
    for a in ctx.analyses:
        if "<<<voice_" in a.text and a.kind != "negative_prompt":
            return _dangling_voices(ctx, meta, info)
    return ()  # within the cap, and no voice token to bind


def _dangling_voices(ctx: Context, meta: RuleMeta, info: EndpointInfo) -> Iterator[Diagnostic]:
    count, holder = voice_inputs(info, ctx.arguments)
    field = info.roles.get("voices")
    cap = info.capabilities.max_voices
    if cap is None and field is not None:
        cap = info.fields[field].max_items if field in info.fields else None
    if field is not None and cap is not None and count > cap:
        yield ctx.report(
            meta,
            f"`{field}` has {count} voices; {short_id(info.id)} takes at most {cap} per request. "
            f"Drop {count - cap}.",
            field=f"{field}[{cap}]",
        )
    name = short_id(info.id)
    seen: set[int] = set()
    for a, ref in references(ctx, "voice"):
        if ref.index < 1 or ref.index <= count or ref.index in seen:
            continue
        seen.add(ref.index)
        tok = token("voice", ref.index)
        if holder is None:
            others = [short_id(e) for e in suggest_endpoints(info, "voices")]
            where = f" such as {', '.join(others)}" if others else ""
            message = (
                f"`{tok}` binds to nothing: {name} takes no voices. Remove the token, or use "
                f"an endpoint with voices{where}."
            )
        elif holder.startswith("`elements"):
            message = (
                f"`{tok}` binds to nothing: {name} binds voices to elements "
                f"({holder}), and {count} element(s) carry one. Give the element a `voice_id` "
                "and name the character as @ElementN."
            )
        elif count == 0:
            message = f"`{tok}` binds to nothing: {holder} is empty. Add the voice id, or remove the token."
        else:
            message = (
                f"`{tok}` refers to voice {ref.index}, but {holder} has {count}; add the voice "
                f"or use {_valid('voice', count)}."
            )
        diag = ctx.report(meta, message, field=a.field, start=ref.start, end=ref.end)
        yield soften(diag) if holder is None else diag


@check("KP205")
def unreferenced_input(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """An input no token names: the model applies it wherever it likes."""
    info = endpoint(ctx)
    if info is None:
        return ()
    checks = REFERENCE_FACTS.get(info).inputs
    if not _any_items(ctx.arguments, (field for _, field in checks)):
        return ()
    return _unreferenced(ctx, meta, checks)


def _unreferenced(
    ctx: Context, meta: RuleMeta, checks: tuple[tuple[str, str | None], ...]
) -> Iterator[Diagnostic]:
    args = ctx.arguments
    for kind, field in checks:
        items = _items(args, field)
        if not items or field is None:
            continue
        named = {ref.index for _, ref in references(ctx, kind)}
        for i in range(1, len(items) + 1):
            if i in named:
                continue
            tok = token(kind, i)
            yield ctx.report(
                meta,
                f"`{field}[{i - 1}]` is never referenced; name it in the prompt as `{tok}` "
                f"(e.g. {_EXAMPLES[kind].format(tok)}) so the model knows where it belongs, or "
                "remove it.",
                field=f"{field}[{i - 1}]",
            )


@check("KP206")
def too_many_references(ctx: Context, meta: RuleMeta) -> Iterable[Diagnostic]:
    """The catalog's prose caps on references: totals, video elements, orientation."""
    info = endpoint(ctx)
    if info is None:
        return ()
    limited = REFERENCE_FACTS.get(info).limited
    if limited is not None and not _any_items(ctx.arguments, limited):
        return ()  # nothing to count
    return _too_many(ctx, meta, info)


def _too_many(ctx: Context, meta: RuleMeta, info: EndpointInfo) -> Iterator[Diagnostic]:
    args = ctx.arguments
    name = short_id(info.id)
    elements_field = info.roles.get("elements")
    elements = _items(args, elements_field)
    cap = info.capabilities.max_elements
    reported_elements = False
    if elements_field and cap is not None and len(elements) > cap:
        reported_elements = True
        yield ctx.report(
            meta,
            f"`{elements_field}` has {len(elements)} entries; {name} takes at most {cap}. "
            f"Drop {len(elements) - cap}.",
            field=f"{elements_field}[{cap}]",
        )
    for rule in info.rules:
        kind = rule.get("kind")
        if kind == "max_total":
            fields = [str(f) for f in rule.get("fields", ())]
            if rule.get("when_video") and not _has_video(args, elements):
                continue
            counts = {f: len(_items(args, f)) for f in fields}
            total = sum(counts.values())
            limit = int(rule.get("max", 0))
            if total <= limit or reported_elements:
                continue
            last = next((f for f in reversed(fields) if counts[f]), fields[0])
            detail = " + ".join(f"{counts[f]} {f}" for f in fields)
            yield ctx.report(
                meta,
                f"{detail} = {total} references; {name} allows {rule.get('text', limit)}. "
                f"Drop {total - limit}.",
                field=last,
            )
        elif kind == "max_video_elements":
            field = str(rule.get("field", "elements"))
            with_video = [
                i
                for i, e in enumerate(_items(args, field))
                if isinstance(e, Mapping) and given(e.get("video_url"))
            ]
            limit = int(rule.get("max", 1))
            if len(with_video) > limit:
                yield ctx.report(
                    meta,
                    f"{len(with_video)} elements have a `video_url`; {name} takes {limit}. Keep "
                    "the video on one element and give the others images.",
                    field=f"{field}[{with_video[limit]}].video_url",
                )
        elif kind == "requires":
            field = str(rule.get("field", ""))
            if not _items(args, field):
                continue
            for key, wanted in (rule.get("requires") or {}).items():
                if args.get(key) != wanted:
                    yield ctx.report(
                        meta,
                        f"`{field}` is given with {key}={args.get(key)!r}; on {name} "
                        f"{rule.get('text', '')}. Set `{key}` to {wanted!r} or drop `{field}`.",
                        field=field,
                        fix=Fix(
                            f"Set {key} to {wanted!r}", [Edit(key, None, None, wanted)], safe=False
                        ),
                    )


def _has_video(args: Mapping[str, Any], elements: list[Any]) -> bool:
    if given(args.get("video_url")):
        return True
    return any(isinstance(e, Mapping) and given(e.get("video_url")) for e in elements)


# -- KP208: voice binding ------------------------------------------------------------------------

_LABEL = lazy(r"\[([^\[\]\n]{1,80})\]")
_VOICE = lazy(r"<<<voice_(\d+)>>>")
_ARTICLES = {"the", "a", "an"}
_WORD = lazy(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _character(text: str) -> tuple[str, ...]:
    words = [w.lower() for w in _WORD.findall(text)]
    while words and words[0] in _ARTICLES:
        words.pop(0)
    return tuple(words)


def _same(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether two character names may be the same one ("man" and "tall man" are)."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return not short or long[len(long) - len(short) :] == short


@check("KP208")
def voice_binding(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Kling's "not recommended" voice placements: the token must follow a named character."""
    for a in texts(ctx):
        if "<<<voice_" not in a.text:
            continue
        yield from _bindings(ctx, meta, a)


def _bindings(ctx: Context, meta: RuleMeta, a: Analysis) -> Iterator[Diagnostic]:
    text = a.text
    labels = [(m.start(), m.end(), m.group(1)) for m in _LABEL.finditer(text)]
    quotes = a.quotes
    characters: dict[int, tuple[tuple[str, ...], int, int]] = {}
    for m in _VOICE.finditer(text):
        start, end, index = m.start(), m.end(), int(m.group(1))
        label = next((lab for lab in labels if lab[0] < start and end < lab[1]), None)
        if label is not None:
            rest = _VOICE.sub("", label[2]).split(",", 1)[0]
            who = _character(rest)
            if not who:
                yield ctx.report(
                    meta,
                    f"`{m.group()}` stands alone in the speaker label; write the character's name "
                    f"with it, e.g. `[Old man{m.group()}, calm voice]`, so the voice binds to "
                    "that character.",
                    field=a.field,
                    start=start,
                    end=end,
                )
                continue
        elif a.in_quote(start):
            yield ctx.report(
                meta,
                f"`{m.group()}` is inside the quoted speech, where it would be read as words; "
                "put it right after the speaker's name before the line, e.g. "
                f'`The old man{m.group()} says: "..."`.',
                field=a.field,
                start=start,
                end=end,
            )
            continue
        else:
            after = [q for q in quotes if q.start > end]
            before = [q for q in quotes if q.end < start]
            tail = text[end:].strip(" \t\n.!?,;:")
            if (
                not tail
                or (before and not after)
                or (before and _right_after(text, before[-1].end, start))
            ):
                yield ctx.report(
                    meta,
                    f"`{m.group()}` comes after the line it should voice; put it right after the "
                    f'speaker\'s name before the line, e.g. `The old man{m.group()} says: "..."`.',
                    field=a.field,
                    start=start,
                    end=end,
                )
                continue
            who = _character(_clause_before(text, start))[-3:]
            if not who:
                continue
        previous = characters.get(index)
        if previous is None:
            characters[index] = (who, start, end)
        elif not _same(previous[0], who):
            yield ctx.report(
                meta,
                f"`{m.group()}` is bound to two characters ({' '.join(previous[0])!r} and "
                f"{' '.join(who)!r}); give each character its own voice.",
                field=a.field,
                start=start,
                end=end,
            )


def _right_after(text: str, quote_end: int, start: int) -> bool:
    """Whether only closing punctuation and spaces separate a quote from a token."""
    return not text[quote_end:start].strip(' \t"”」.,!?;:')


def _clause_before(text: str, start: int) -> str:
    head = text[max(0, start - 60) : start]
    cut = max(head.rfind(ch) for ch in '.!?;:\n"”')
    return head[cut + 1 :]


# -- KP209: malformed tokens ---------------------------------------------------------------------

# Both start with a literal character, so that the regex engine jumps from one "@" (or "<") to
# the next instead of trying every position: "@(?<![\w.]@)" is "(?<![\w.])@" (no word character
# or dot before the "@"), and "<<{0,4}" is "<{1,5}".
_AT = lazy(
    r"@(?<![\w.]@)[ \t]?(element|image|video)(s?)([ \t_\-]?)(\d+)?(?![A-Za-z])", re.IGNORECASE
)
_ANGLE = lazy(r"<<{0,4}[ \t]*(voice|element|image|video)[ \t_\-]*(\d*)[ \t]*>{0,5}", re.IGNORECASE)
_NATIVE = lazy(r"<<<(?:element|image|video)_\d+>>>", re.IGNORECASE)
_WELL_FORMED_VOICE = lazy(r"<<<voice_\d+>>>")


@check("KP209")
def malformed_reference(ctx: Context, meta: RuleMeta) -> Iterator[Diagnostic]:
    """Near-miss tokens bind to nothing; most have one obvious spelling, fixed safely."""
    limit = int(ctx.option(meta, "max_reports", 5))
    for a in texts(ctx):
        text = a.text
        if "@" not in text and "<" not in text:
            continue
        found = list(_malformed(text))
        for start, end, replacement, reason in found[:limit]:
            fix = None
            if replacement is not None:
                fix = Fix(
                    f"Write {replacement}", [Edit(a.field, start, end, replacement)], safe=True
                )
            yield ctx.report(
                meta,
                f"`{text[start:end]}` {reason}",
                field=a.field,
                start=start,
                end=end,
                fix=fix,
            )


def _malformed(text: str) -> Iterator[tuple[int, int, str | None, str]]:
    """``(start, end, replacement or None, reason)`` of each malformed token, in text order."""
    out: list[tuple[int, int, str | None, str]] = []
    if "@" in text:
        for m in _AT.finditer(text):
            kind, digits = m.group(1).lower(), m.group(4)
            canonical = _TOKEN_NAMES[kind]
            if digits is None:
                continue  # "@image" alone is prose (or another app's @mention), not a near miss
            index = int(digits)
            if m.group() == f"{canonical}{digits}" and index >= 1 and not digits.startswith("0"):
                continue
            if index < 1:
                out.append(
                    (
                        m.start(),
                        m.end(),
                        None,
                        f"binds to nothing: references count from 1 ({canonical}1 is the first input).",
                    )
                )
                continue
            right = f"{canonical}{index}"
            out.append(
                (
                    m.start(),
                    m.end(),
                    right,
                    f"binds to nothing; fal only binds the exact form {right}.",
                )
            )
    if "<" in text:
        spans: list[tuple[int, int]] = []
        for m in _ANGLE.finditer(text):
            spans.append(m.span())
            raw = m.group()
            if _NATIVE.fullmatch(raw) or _WELL_FORMED_VOICE.fullmatch(raw):
                continue
            kind, digits = m.group(1).lower(), m.group(2)
            if not digits and not raw.startswith("<<"):
                continue
            index = int(digits) if digits else 0
            target: str | None
            if kind == "voice":
                target = f"<<<voice_{index}>>>" if index >= 1 else None
                why = (
                    f"is not a voice token; fal binds only the exact form {target}."
                    if target
                    else "has no voice number; write <<<voice_1>>> or <<<voice_2>>>."
                )
            else:
                target = f"{_TOKEN_NAMES[kind]}{index}" if index >= 1 else None
                why = (
                    f"is not fal's syntax; write {target}."
                    if target
                    else f"has no number; write {_TOKEN_NAMES[kind]}1."
                )
            out.append((m.start(), m.end(), target, why))
        for m in re.finditer(r"<<<", text):
            if any(s <= m.start() < e for s, e in spans):
                continue
            close = text.find(">>>", m.end())
            if close != -1 and "<<<" not in text[m.end() : close] and close - m.end() <= 40:
                continue
            out.append(
                (
                    m.start(),
                    m.end(),
                    None,
                    "is never closed with >>>; write a full token such as <<<voice_1>>>, or remove it.",
                )
            )
    out.sort(key=lambda item: item[0])
    return iter(out)
