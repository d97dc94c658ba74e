"""Output formats of ``kling-prompt lint``, named and shaped like ruff's.

``full`` and ``concise`` are for people; ``json``, ``json-lines``, ``github``, ``sarif``,
``junit`` and ``gitlab`` are for CI systems. Every formatter takes the per-file results of a run
(files without diagnostics included, for the formats that list them) and returns the text to
print. Standard library only: this module is on the lint path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from kling_prompt.linter.diagnostic import Diagnostic

FORMATS = ("full", "concise", "json", "json-lines", "github", "sarif", "junit", "gitlab")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_URI = "https://github.com/kling-prompt/kling-prompt"

_COLORS = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;36m"}
_BOLD, _BLUE, _GREEN, _RESET = "\x1b[1m", "\x1b[1;34m", "\x1b[32m", "\x1b[0m"
_EXCERPT_WIDTH = 120


class FileResult:
    """What a run found in one input: its text (for excerpts), diagnostics and fix counts.

    ``fixed_text`` is the text after fixes when it differs from ``text`` (for ``--diff`` and
    for writing the file back).
    """

    __slots__ = ("diagnostics", "fixed", "fixed_text", "path", "text", "unfixable")

    def __init__(
        self,
        path: str,
        text: str | None,
        diagnostics: list[Diagnostic] | None = None,
        *,
        fixed: int = 0,
        unfixable: int = 0,
        fixed_text: str | None = None,
    ) -> None:
        self.path = path
        self.text = text
        self.diagnostics = diagnostics or []
        self.fixed = fixed
        self.unfixable = unfixable
        self.fixed_text = fixed_text


def render(
    fmt: str,
    results: Sequence[FileResult],
    *,
    color: bool = False,
    rules: Sequence[Mapping[str, Any]] = (),
    unsafe_fixes: bool = False,
) -> str:
    """The whole output of one format (an empty string when a line format has nothing to say)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; choose from {', '.join(FORMATS)}")
    if fmt == "full":
        return full(results, color=color, unsafe_fixes=unsafe_fixes)
    if fmt == "sarif":
        return sarif(results, rules)
    table: dict[str, Callable[[Sequence[FileResult]], str]] = {
        "concise": concise,
        "json": json_array,
        "json-lines": json_lines,
        "github": github,
        "junit": junit,
        "gitlab": gitlab,
    }
    return table[fmt](results)


def _all(results: Sequence[FileResult]) -> Iterator[tuple[FileResult, Diagnostic]]:
    for result in results:
        for diag in result.diagnostics:
            yield result, diag


def _path(result: FileResult, diag: Diagnostic) -> str:
    return diag.filename or result.path


def _row_col(diag: Diagnostic) -> tuple[int, int]:
    return diag.line or 1, diag.column or 1


# -- text --------------------------------------------------------------------------------------


def concise(results: Sequence[FileResult]) -> str:
    """``path:row:col: CODE [severity] message``, one per line."""
    lines = []
    for result, diag in _all(results):
        row, col = _row_col(diag)
        lines.append(
            f"{_path(result, diag)}:{row}:{col}: {diag.code} [{diag.severity}] {_one_line(diag.message)}"
        )
    return "\n".join(lines) + ("\n" if lines else "")


def _one_line(text: str) -> str:
    return " ".join(text.split()) if "\n" in text or "\r" in text else text


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text


def full(results: Sequence[FileResult], *, color: bool = False, unsafe_fixes: bool = False) -> str:
    """Each diagnostic with the source line, the span underlined, and the fix when there is one."""
    blocks: list[str] = []
    for result, diag in _all(results):
        row, col = _row_col(diag)
        sev = _paint(diag.code, _COLORS.get(diag.severity, ""), color)
        mark = ""
        if diag.fix is not None and (diag.fix.safe or unsafe_fixes):
            mark = _paint("[*] ", _GREEN, color)
        where = _paint(f"{_path(result, diag)}:{row}:{col}:", _BOLD, color)
        record = f" (record {diag.record})" if diag.record else ""
        out = [f"{where} {sev} [{diag.severity}] {mark}{diag.message}{record}"]
        excerpt = _excerpt(result, diag, color)
        out.extend(excerpt)
        if diag.fix is not None:
            kind = "safe fix" if diag.fix.safe else "unsafe fix: apply with --fix --unsafe-fixes"
            out.append(f"  = help: {diag.fix.message} ({kind})")
        out.append(f"  = docs: {diag.url}")
        blocks.append("\n".join(out))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def _source_lines(text: str) -> list[str]:
    return text.split("\n")


def _excerpt(result: FileResult, diag: Diagnostic, color: bool) -> list[str]:
    if diag.line is None or result.text is None or (diag.filename and diag.filename != result.path):
        return []
    lines = _source_lines(result.text)
    if not 1 <= diag.line <= len(lines):
        return []
    line = lines[diag.line - 1].rstrip("\r")
    start = max((diag.column or 1) - 1, 0)
    if diag.end_line == diag.line and diag.end_column is not None:
        end = max(diag.end_column - 1, start + 1)
    else:
        end = max(len(line), start + 1)
    shown, offset = line, 0
    if len(line) > _EXCERPT_WIDTH:
        offset = max(0, min(start - 20, len(line) - _EXCERPT_WIDTH))
        shown = line[offset : offset + _EXCERPT_WIDTH]
        if offset:
            shown = "…" + shown[1:]
        if offset + _EXCERPT_WIDTH < len(line):
            shown = shown[:-1] + "…"
    start -= offset
    end = min(end - offset, len(shown) + 1)
    number = str(diag.line)
    gutter = " " * len(number)
    pad = "".join("\t" if ch == "\t" else " " for ch in shown[:start])
    carets = _paint("^" * max(end - start, 1), _COLORS.get(diag.severity, ""), color)
    bar = _paint("|", _BLUE, color)
    return [
        f"{gutter} {bar}",
        f"{_paint(number, _BLUE, color)} {bar} {shown}",
        f"{gutter} {bar} {pad}{carets} {diag.code}",
        f"{gutter} {bar}",
    ]


def statistics(results: Sequence[FileResult], *, as_json: bool = False) -> str:
    """Counts per rule, most frequent first (``--statistics``)."""
    counts: dict[str, list[Any]] = {}
    for _, diag in _all(results):
        entry = counts.setdefault(diag.code, [diag.code, diag.name, 0, False])
        entry[2] += 1
        entry[3] = entry[3] or (diag.fix is not None and diag.fix.safe)
    rows = sorted(counts.values(), key=lambda e: (-e[2], e[0]))
    if as_json:
        data = [{"code": c, "name": n, "count": k, "fixable": f} for c, n, k, f in rows]
        return json.dumps(data, indent=2) + "\n"
    if not rows:
        return ""
    width = max(len(str(r[2])) for r in rows)
    lines = [f"{k:>{width}}\t{c}\t{'[*] ' if f else ''}{n}" for c, n, k, f in rows]
    return "\n".join(lines) + "\n"


# -- JSON --------------------------------------------------------------------------------------


def _items(results: Sequence[FileResult]) -> list[dict[str, Any]]:
    items = []
    for result, diag in _all(results):
        item = diag.to_dict()
        item["filename"] = _path(result, diag)
        items.append(item)
    return items


def json_array(results: Sequence[FileResult]) -> str:
    return json.dumps(_items(results), indent=2, ensure_ascii=False) + "\n"


def json_lines(results: Sequence[FileResult]) -> str:
    lines = [json.dumps(item, ensure_ascii=False) for item in _items(results)]
    return "\n".join(lines) + ("\n" if lines else "")


# -- GitHub Actions ----------------------------------------------------------------------------


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def github(results: Sequence[FileResult]) -> str:
    """Workflow commands that GitHub Actions turns into annotations on the changed lines."""
    level = {"error": "error", "warning": "warning", "info": "notice"}
    lines = []
    for result, diag in _all(results):
        props = [f"file={_gh_property(_path(result, diag))}"]
        if diag.line is not None:
            row, col = _row_col(diag)
            props += [f"line={row}", f"col={col}"]
            props += [f"endLine={diag.end_line or row}", f"endColumn={diag.end_column or col}"]
        props.append(f"title={_gh_property(f'{diag.code} {diag.name}')}")
        lines.append(
            f"::{level.get(diag.severity, 'error')} {','.join(props)}::{_gh_data(diag.message)}"
        )
    return "\n".join(lines) + ("\n" if lines else "")


# -- GitLab Code Quality -----------------------------------------------------------------------


def flagged_text(result: FileResult, diag: Diagnostic) -> str:
    """The source text a diagnostic points at (empty when it has no span in this file)."""
    if result.text is None or diag.line is None or (diag.filename and diag.filename != result.path):
        return ""
    lines = result.text.split("\n")
    end_line = diag.end_line or diag.line
    if not 1 <= diag.line <= end_line <= len(lines):
        return ""
    start = (diag.column or 1) - 1
    end = (diag.end_column or diag.column or 1) - 1
    if end_line == diag.line:
        return lines[diag.line - 1][start:end]
    parts = [
        lines[diag.line - 1][start:],
        *lines[diag.line : end_line - 1],
        lines[end_line - 1][:end],
    ]
    return "\n".join(parts)


def fingerprints(results: Sequence[FileResult]) -> list[str]:
    """A stable id per diagnostic: rule, file, field, record and flagged text, never line numbers.

    Identical findings in one file are told apart by their order, so ids survive edits above.
    """
    from hashlib import sha256

    seen: dict[str, int] = {}
    out = []
    for result, diag in _all(results):
        key = "\0".join(
            (
                diag.code,
                _path(result, diag),
                diag.field or "",
                diag.record or "",
                flagged_text(result, diag) or diag.message,
            )
        )
        n = seen.get(key, 0)
        seen[key] = n + 1
        out.append(sha256(f"{key}\0{n}".encode()).hexdigest())
    return out


def gitlab(results: Sequence[FileResult]) -> str:
    """A GitLab Code Quality report (a JSON array of issues)."""
    severity = {"error": "major", "warning": "minor", "info": "info"}
    issues = []
    for (result, diag), fingerprint in zip(_all(results), fingerprints(results), strict=False):
        row = diag.line or 1
        issues.append(
            {
                "description": f"{diag.code} {diag.name}: {diag.message}",
                "check_name": diag.code,
                "fingerprint": fingerprint,
                "severity": severity.get(diag.severity, "minor"),
                "location": {
                    "path": _path(result, diag),
                    "lines": {"begin": row, "end": diag.end_line or row},
                },
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


# -- JUnit -------------------------------------------------------------------------------------


def _xml(text: str) -> str:
    from xml.sax.saxutils import escape

    cleaned = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 0x20)
    return escape(cleaned, {'"': "&quot;"})


def junit(results: Sequence[FileResult]) -> str:
    """JUnit XML: a test suite per file, a failing test case per diagnostic (a passing one for a clean file)."""
    total = sum(len(r.diagnostics) for r in results)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<testsuites name="kling-prompt" tests="{sum(max(len(r.diagnostics), 1) for r in results)}" '
        f'failures="{total}" errors="0">',
    ]
    for result in results:
        path = _xml(result.path)
        count = len(result.diagnostics)
        out.append(
            f'  <testsuite name="{path}" tests="{max(count, 1)}" failures="{count}" errors="0" skipped="0">'
        )
        if not count:
            out.append(f'    <testcase name="kling-prompt" classname="{path}"/>')
        for diag in result.diagnostics:
            row, col = _row_col(diag)
            name = _xml(f"{diag.code} {diag.name}")
            out.append(
                f'    <testcase name="{name}" classname="{path}" file="{_xml(_path(result, diag))}" line="{row}">'
            )
            body = _xml(
                f"{_path(result, diag)}:{row}:{col}: {diag.code} [{diag.severity}] {diag.message}"
            )
            out.append(
                f'      <failure message="{_xml(diag.message)}" type="{diag.severity}">{body}</failure>'
            )
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


# -- SARIF -------------------------------------------------------------------------------------


def _sarif_level(severity: str) -> str:
    return {"error": "error", "warning": "warning", "info": "note"}.get(severity, "warning")


def _uri(path: str) -> str:
    from pathlib import Path
    from urllib.parse import quote

    if os.path.isabs(path):
        return Path(path).as_uri()
    return quote(path.replace(os.sep, "/"))


def _first_sentence(text: str) -> str:
    from kling_prompt.linter.docs import summary

    return summary({"docs": {"what": text}})


def sarif_rule(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A SARIF ``reportingDescriptor`` from a rule document."""
    from kling_prompt.linter.diagnostic import docs_url

    docs = doc.get("docs") or {}
    what = str(docs.get("what") or doc.get("message") or doc["name"])
    why = str(docs.get("why") or "")
    full_text = f"{what} {why}".strip()
    markdown = [f"**{doc['code']} {doc['name']}** ({doc['severity']})", "", what]
    if why:
        markdown += ["", why]
    if docs.get("bad"):
        markdown += ["", f"Bad: `{docs['bad']}`"]
    if docs.get("good"):
        markdown += ["", f"Good: `{docs['good']}`"]
    return {
        "id": doc["code"],
        "name": doc["name"],
        "shortDescription": {"text": _first_sentence(what)},
        "fullDescription": {"text": full_text},
        "help": {"text": full_text, "markdown": "\n".join(markdown)},
        "helpUri": docs_url(doc["code"], doc["name"]),
        "defaultConfiguration": {"level": _sarif_level(str(doc["severity"]))},
        "properties": {
            "tags": [str(doc.get("kind", "code"))],
            "source": str(doc.get("source", "")),
        },
    }


def sarif(results: Sequence[FileResult], rules: Sequence[Mapping[str, Any]] = ()) -> str:
    """A SARIF 2.1.0 log: the rules (with their docs) and one result per diagnostic."""
    from kling_prompt import __version__

    descriptors = [sarif_rule(doc) for doc in rules]
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    for _, diag in _all(results):
        if diag.code not in index:
            index[diag.code] = len(descriptors)
            descriptors.append(
                sarif_rule({"code": diag.code, "name": diag.name, "severity": diag.severity})
            )
    findings = []
    for (result, diag), fingerprint in zip(_all(results), fingerprints(results), strict=False):
        location: dict[str, Any] = {"artifactLocation": {"uri": _uri(_path(result, diag))}}
        if diag.line is not None:
            row, col = _row_col(diag)
            end_line = diag.end_line or row
            end_col = diag.end_column or col
            if end_line == row and end_col <= col:
                end_col = col + 1
            location["region"] = {
                "startLine": row,
                "startColumn": col,
                "endLine": end_line,
                "endColumn": end_col,
            }
        item: dict[str, Any] = {
            "ruleId": diag.code,
            "ruleIndex": index[diag.code],
            "level": _sarif_level(diag.severity),
            "message": {"text": diag.message},
            "locations": [{"physicalLocation": location}],
            "partialFingerprints": {"klingPrompt/v1": fingerprint},
        }
        if diag.record is not None or diag.field is not None:
            item["properties"] = {"record": diag.record, "field": diag.field}
        findings.append(item)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kling-prompt",
                        "version": __version__,
                        "informationUri": TOOL_URI,
                        "rules": descriptors,
                    }
                },
                "results": findings,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
