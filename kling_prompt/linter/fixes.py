"""Apply lint fixes: to a request's arguments (a pure function) and to the file a request came from.

Fixes are applied in passes. In each pass the fixes are taken in diagnostic order; a fix whose
edits overlap an edit already taken waits for the next pass (first wins). After a pass the input
is linted again, until no fix applies or :data:`MAX_PASSES` is reached, so fixing a fixed input
changes nothing.

In a file, a text edit is applied only where the request text is a verbatim copy of the file
(the source map says so); a JSON string's replacement is JSON-escaped. Payload edits replace,
insert, rename or delete a JSON value in place. Every other byte of the file stays as it was.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, Sequence
from typing import Any

from kling_prompt.linter.diagnostic import Diagnostic, Edit, Fix
from kling_prompt.request import Request, SourceMap, Span, get_field, set_field

MAX_PASSES = 10
JSON_KINDS = ("json", "jsonl")


def applicable(fix: Fix | None, *, unsafe: bool = False) -> bool:
    """Whether a fix may be applied: safe fixes always, unsafe ones only when asked."""
    return fix is not None and bool(fix.edits) and (fix.safe or unsafe)


# -- request arguments ---------------------------------------------------------------------------


def _related(a: str, b: str) -> bool:
    """Whether two field paths are the same or one contains the other."""
    if a == b:
        return True
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return long.startswith(short + ".") or long.startswith(short + "[")


def _edits_clash(a: Edit, b: Edit) -> bool:
    if a.is_text and b.is_text:
        if a.field != b.field:
            return False
        return _ranges_clash(a.start or 0, a.end or 0, b.start or 0, b.end or 0)
    return _related(a.field, b.field)


def _ranges_clash(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """Overlap, where an insertion touching another edit counts as overlap (order is ambiguous)."""
    if a_start < b_end and b_start < a_end:
        return True
    if a_start == a_end or b_start == b_end:
        return a_start <= b_end and b_start <= a_end
    return False


def _edit_valid(arguments: dict[str, Any], edit: Edit) -> bool:
    if edit.is_text:
        try:
            text = get_field(arguments, edit.field)
        except (KeyError, ValueError):
            return False
        end = edit.end if edit.end is not None else -1
        return (
            isinstance(text, str)
            and isinstance(edit.replacement, str)
            and 0 <= (edit.start or 0) <= end <= len(text)
        )
    if edit.delete:
        try:
            get_field(arguments, edit.field)
        except (KeyError, ValueError):
            return False
        return True
    parent, _, _ = edit.field.rpartition(".")
    if "[" in edit.field.rpartition(".")[2]:
        try:
            get_field(arguments, edit.field)
        except (KeyError, ValueError):
            return False
        return True
    try:
        holder = get_field(arguments, parent) if parent else arguments
    except (KeyError, ValueError):
        return False
    return isinstance(holder, dict)


def apply_fixes(
    arguments: dict[str, Any], fixes: Sequence[Fix]
) -> tuple[dict[str, Any], list[Fix], list[Fix]]:
    """One pass over ``fixes`` in order: returns new arguments, the fixes applied and those deferred.

    ``arguments`` is not modified. A fix is all or nothing; one that overlaps a fix taken earlier
    in the pass is deferred, one whose edits do not fit the arguments is dropped.
    """
    taken: list[Edit] = []
    applied: list[Fix] = []
    deferred: list[Fix] = []
    for fix in fixes:
        if not fix.edits or not all(_edit_valid(arguments, e) for e in fix.edits):
            continue
        own = fix.edits
        if any(_edits_clash(a, b) for i, a in enumerate(own) for b in own[i + 1 :]):
            continue
        if any(_edits_clash(a, b) for a in own for b in taken):
            deferred.append(fix)
            continue
        taken.extend(own)
        applied.append(fix)
    result = copy.deepcopy(arguments)
    text_edits = sorted(
        (e for e in taken if e.is_text), key=lambda e: (e.field, e.start or 0), reverse=True
    )
    for edit in text_edits:
        text = get_field(result, edit.field)
        set_field(result, edit.field, text[: edit.start] + str(edit.replacement) + text[edit.end :])
    for edit in (e for e in taken if not e.is_text):
        _set_payload(result, edit)
    return result, applied, deferred


def _set_payload(arguments: dict[str, Any], edit: Edit) -> None:
    if edit.delete:
        if edit.field.endswith("]"):
            cut = edit.field.rindex("[")
            items: list[Any] = get_field(arguments, edit.field[:cut])
            del items[int(edit.field[cut + 1 : -1])]
        else:
            parent_path, _, last = edit.field.rpartition(".")
            holder: dict[str, Any] = get_field(arguments, parent_path) if parent_path else arguments
            del holder[last]
        return
    parent_path, _, last = edit.field.rpartition(".")
    if "[" in last:
        set_field(arguments, edit.field, copy.deepcopy(edit.replacement))
        return
    holder = get_field(arguments, parent_path) if parent_path else arguments
    holder[last] = copy.deepcopy(edit.replacement)


class RequestFix:
    """The outcome of :func:`fix_request`: the fixed request, how many fixes were applied, what is left."""

    __slots__ = ("applied", "remaining", "request")

    def __init__(self, request: Request, applied: int, remaining: list[Diagnostic]) -> None:
        self.request = request
        self.applied = applied
        self.remaining = remaining


def fix_request(
    request: Request,
    lint: Callable[[Request], list[Diagnostic]],
    *,
    unsafe: bool = False,
    max_passes: int = MAX_PASSES,
) -> RequestFix:
    """Lint and fix ``request`` until no fix applies; the input request is left unchanged.

    ``lint`` is usually ``Linter(config).lint``. Suppression directives in the text are kept: edits
    are mapped from the cleaned text back to the text as written.
    """
    current = request
    applied_total = 0
    diagnostics = lint(current)
    for _ in range(max_passes):
        fixes = [
            _to_raw_fields(current, d.fix) for d in diagnostics if applicable(d.fix, unsafe=unsafe)
        ]
        usable = [f for f in fixes if f is not None]
        if not usable:
            break
        arguments, applied, _ = apply_fixes(current.arguments, usable)
        if not applied or arguments == current.arguments:
            break
        applied_total += len(applied)
        current = Request(
            current.endpoint,
            arguments,
            source_map=SourceMap(),
            mode=current.mode,
            path=current.path,
            record=current.record,
            spec=current.spec,
        )
        diagnostics = lint(current)
    return RequestFix(current, applied_total, diagnostics)


def _to_raw_fields(request: Request, fix: Fix | None) -> Fix | None:
    """Carry a fix's text edits from the directive-free text to the text as written."""
    from kling_prompt.linter.suppress import extract

    assert fix is not None
    edits: list[Edit] = []
    for edit in fix.edits:
        if not edit.is_text:
            edits.append(edit)
            continue
        try:
            raw = get_field(request.arguments, edit.field)
        except (KeyError, ValueError):
            return None
        if not isinstance(raw, str) or "{#" not in raw:
            edits.append(edit)
            continue
        clean, _, segments = extract(raw, edit.field)
        start = _through_segments(segments, edit.start or 0)
        end = _through_segments(segments, edit.end or 0)
        if start is None or end is None or raw[start:end] != clean[edit.start : edit.end]:
            return None
        edits.append(Edit(edit.field, start, end, edit.replacement))
    return Fix(fix.message, edits, safe=fix.safe)


def _through_segments(segments: Sequence[tuple[int, int, int]], offset: int) -> int | None:
    for clean_start, clean_end, raw_start in segments:
        if clean_start <= offset <= clean_end:
            return raw_start + (offset - clean_start)
    return None


# -- files ---------------------------------------------------------------------------------------


class RawEdit:
    """Replace ``[start, end)`` of a file's text with ``text``."""

    __slots__ = ("end", "start", "text")

    def __init__(self, start: int, end: int, text: str) -> None:
        self.start = start
        self.end = end
        self.text = text

    def __repr__(self) -> str:
        return f"RawEdit({self.start}, {self.end}, {self.text!r})"


class FilePlan:
    """The file edits of one pass, one group per fix, and how many fixes could not be mapped."""

    __slots__ = ("groups", "unfixable")

    def __init__(self) -> None:
        self.groups: list[list[RawEdit]] = []
        self.unfixable = 0


class FileFix:
    """The outcome of :func:`fix_text`: the new text, fixes applied and fixes that could not be."""

    __slots__ = ("applied", "diagnostics", "loaded", "text", "unfixable")

    def __init__(
        self,
        text: str,
        applied: int,
        unfixable: int,
        loaded: Any,
        diagnostics: list[list[Diagnostic]],
    ) -> None:
        self.text = text
        self.applied = applied
        self.unfixable = unfixable
        self.loaded = loaded
        self.diagnostics = diagnostics


def line_starts(text: str, kind: str) -> list[int]:
    """Offsets where each line starts (index 0 is line 1), counted as the input reader counts them."""
    starts = [0]
    if kind == "jsonl":
        pos = 0
        for line in text.splitlines(keepends=True):
            pos += len(line)
            starts.append(pos)
        return starts
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def plan(
    loaded: Any, diagnostics: Sequence[Sequence[Diagnostic]], *, unsafe: bool = False
) -> FilePlan:
    """Map the applicable fixes of each item of a loaded file to edits of the file's text.

    ``loaded`` is an :class:`~kling_prompt.linter.inputs.Loaded` without parse errors and
    ``diagnostics`` holds each item's diagnostics, in item order.
    """
    from kling_prompt.linter.engine import prepare

    out = FilePlan()
    text: str = loaded.text or ""
    kind: str = loaded.kind
    starts = line_starts(text, kind)
    docs = _documents(text, kind, len(loaded.items))
    for index, (item, diags) in enumerate(zip(loaded.items, diagnostics, strict=False)):
        wanted = [d.fix for d in diags if applicable(d.fix, unsafe=unsafe)]
        if not wanted:
            continue
        clean, _ = prepare(item.request)
        doc = docs[index] if index < len(docs) else None
        for fix in wanted:
            assert fix is not None
            group = _map_fix(fix, clean, text, kind, starts, doc)
            if group is None:
                out.unfixable += 1
            else:
                out.groups.append(group)
    return out


class _Doc:
    """One JSON document of a file: where it starts, its value positions, the arguments prefix."""

    __slots__ = ("base", "positions", "prefix", "text")

    def __init__(self, text: str, base: int) -> None:
        from kling_prompt.linter.jsonpos import locate

        self.text = text
        self.base = base
        self.positions = locate(text)
        doc = json.loads(text)
        bare = isinstance(doc, dict) and "arguments" not in doc and "prompt" in doc
        self.prefix = "" if bare else "arguments."


def _documents(text: str, kind: str, count: int) -> list[_Doc | None]:
    try:
        if kind == "json":
            return [_Doc(text, 0)]
        if kind == "jsonl":
            docs: list[_Doc | None] = []
            pos = 0
            for line in text.splitlines(keepends=True):
                body = line.rstrip("\r\n")
                if body.strip():
                    docs.append(_Doc(body, pos))
                pos += len(line)
            return docs if len(docs) == count else [None] * count
    except (ValueError, IndexError, AssertionError):
        return [None] * count
    return [None] * count


def _map_fix(
    fix: Fix, clean: Request, text: str, kind: str, starts: list[int], doc: _Doc | None
) -> list[RawEdit] | None:
    group: list[RawEdit] = []
    payload = [e for e in fix.edits if not e.is_text]
    for edit in fix.edits:
        if edit.is_text:
            raw = _map_text_edit(edit, clean, text, kind, starts)
            if raw is None:
                return None
            group.append(raw)
    if payload:
        if doc is None:
            return None
        mapped = _map_payload(payload, doc)
        if mapped is None:
            return None
        group.extend(mapped)
    group.sort(key=lambda e: e.start)
    for a, b in itertools.pairwise(group):
        if _ranges_clash(a.start, a.end, b.start, b.end):
            return None
    return group


def _map_text_edit(
    edit: Edit, clean: Request, text: str, kind: str, starts: list[int]
) -> RawEdit | None:
    try:
        value = get_field(clean.arguments, edit.field)
    except (KeyError, ValueError):
        return None
    start, end = edit.start or 0, edit.end if edit.end is not None else -1
    if (
        not isinstance(value, str)
        or not isinstance(edit.replacement, str)
        or not 0 <= start <= end <= len(value)
    ):
        return None
    spans = [
        s
        for s in clean.source_map.spans(edit.field)
        if s.origin.verbatim and s.origin.line is not None
    ]
    raw_start = _raw_offset(spans, start, starts, text)
    raw_end = _raw_offset(spans, end, starts, text)
    if raw_start is None or raw_end is None or raw_end < raw_start:
        return None
    original = value[start:end]
    if kind in JSON_KINDS:
        try:
            decoded = json.loads('"' + text[raw_start:raw_end] + '"')
        except ValueError:
            return None
        if decoded != original:
            return None
        replacement = json.dumps(edit.replacement, ensure_ascii=False)[1:-1]
    else:
        if text[raw_start:raw_end] != original:
            return None
        replacement = edit.replacement
    return RawEdit(raw_start, raw_end, replacement)


def _raw_offset(spans: Sequence[Span], offset: int, starts: list[int], text: str) -> int | None:
    """The file offset of a request-text offset, through a verbatim span that holds it."""
    for span in spans:
        if span.start <= offset <= span.end:
            line = span.origin.line
            if line is None or not 1 <= line <= len(starts):
                continue
            raw = starts[line - 1] + (span.origin.column or 1) - 1 + (offset - span.start)
            if 0 <= raw <= len(text):
                return raw
    return None


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _map_payload(edits: Sequence[Edit], doc: _Doc) -> list[RawEdit] | None:
    positions = doc.positions
    deletes = [e for e in edits if e.delete]
    sets = [e for e in edits if not e.delete]
    out: list[RawEdit] = []
    # A rename: delete one key and set a new sibling key, done by rewriting the member in place.
    if len(deletes) == 1 and len(sets) == 1:
        old, new = deletes[0], sets[0]
        old_parent, _, _ = old.field.rpartition(".")
        new_parent, _, new_key = new.field.rpartition(".")
        located = positions.get(doc.prefix + old.field)
        if (
            old_parent == new_parent
            and "[" not in new_key
            and doc.prefix + new.field not in positions
            and located is not None
            and located.key is not None
        ):
            member = f"{_dump(new_key)}: {_dump(new.replacement)}"
            return [RawEdit(doc.base + located.key[0], doc.base + located.end, member)]
    for edit in edits:
        raw = _map_one_payload(edit, doc)
        if raw is None:
            return None
        out.append(raw)
    return out


def _map_one_payload(edit: Edit, doc: _Doc) -> RawEdit | None:
    text, base, positions = doc.text, doc.base, doc.positions
    path = doc.prefix + edit.field
    located = positions.get(path)
    if edit.delete:
        if located is None or located.key is None:
            return None
        start, end = located.key[0], located.end
        after = _skip_ws(text, end)
        if after < len(text) and text[after] == ",":
            end = _skip_ws(text, after + 1)
        else:
            before = _skip_ws_back(text, start)
            if before > 0 and text[before - 1] == ",":
                start = before - 1
        return RawEdit(base + start, base + end, "")
    if located is not None:
        return RawEdit(base + located.offset, base + located.end, _dump(edit.replacement))
    parent_path, _, key = path.rpartition(".")
    if "[" in key:
        return None
    parent = positions.get(parent_path if parent_path else "")
    if parent is None or text[parent.offset] != "{":
        return None
    member = f"{_dump(key)}: {_dump(edit.replacement)}"
    children = [
        loc
        for p, loc in positions.items()
        if loc.key is not None and p.rpartition(".")[0] == parent_path and _direct(p, parent_path)
    ]
    if not children:
        return RawEdit(base + parent.offset + 1, base + parent.offset + 1, member)
    first = min(children, key=lambda loc: loc.offset)
    last = max(children, key=lambda loc: loc.end)
    assert first.key is not None
    gap = text[parent.offset + 1 : first.key[0]]
    separator = "," + gap if "\n" in gap else ", "
    return RawEdit(base + last.end, base + last.end, separator + member)


def _direct(path: str, parent: str) -> bool:
    rest = path[len(parent) + 1 :] if parent else path
    return "." not in rest and "[" not in rest


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _skip_ws_back(text: str, pos: int) -> int:
    while pos > 0 and text[pos - 1] in " \t\r\n":
        pos -= 1
    return pos


def apply_raw(text: str, groups: Sequence[Sequence[RawEdit]]) -> tuple[str, int]:
    """Apply edit groups in order, skipping a group that overlaps one taken before; returns the text and the groups applied."""
    taken: list[RawEdit] = []
    count = 0
    for group in groups:
        if any(_ranges_clash(a.start, a.end, b.start, b.end) for a in group for b in taken):
            continue
        taken.extend(group)
        count += 1
    for edit in sorted(taken, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text, count


def fix_text(
    text: str,
    relint: Callable[[str], tuple[Any, list[list[Diagnostic]]]],
    *,
    unsafe: bool = False,
    max_passes: int = MAX_PASSES,
) -> FileFix:
    """Fix a file's text in passes; ``relint(text)`` parses and lints it (returns the loaded file and each item's diagnostics).

    A text that does not parse (KP001) is returned unchanged.
    """
    loaded, diagnostics = relint(text)
    applied = 0
    unfixable = 0
    for _ in range(max_passes):
        if loaded.errors:
            break
        file_plan = plan(loaded, diagnostics, unsafe=unsafe)
        unfixable = file_plan.unfixable
        new_text, count = apply_raw(text, file_plan.groups)
        if count == 0 or new_text == text:
            break
        new_loaded, new_diagnostics = relint(new_text)
        if new_loaded.errors:  # a fix must never break the file; keep what parsed
            break
        text, loaded, diagnostics = new_text, new_loaded, new_diagnostics
        applied += count
    return FileFix(text, applied, unfixable, loaded, diagnostics)
