"""Rule documentation: the text of ``kling-prompt rule CODE`` and the ``docs/rules.md`` page.

Both read the rule files (with their ``docs`` sections), so the reference can never drift from
the rules; a test regenerates ``docs/rules.md`` and compares it with the committed page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from kling_prompt.linter.diagnostic import docs_url

_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z(])")
REGENERATE = "kling-prompt rules --output-format markdown > docs/rules.md"
FAMILY_TITLES = {
    "KP0": "KP0xx: the linter itself",
    "KP1": "KP1xx: payload and API limits",
    "KP2": "KP2xx: references to inputs",
    "KP3": "KP3xx: motion and mode",
    "KP4": "KP4xx: length and structure",
    "KP5": "KP5xx: audio and dialogue",
    "KP6": "KP6xx: negative prompt",
    "KP7": "KP7xx: camera",
    "KP8": "KP8xx: consistency",
    "KP9": "KP9xx: known failure modes",
}


def anchor(doc: Mapping[str, Any]) -> str:
    """The page anchor of a rule, as diagnostic URLs write it (``kp301-choreography-in-motion-control``)."""
    return f"{str(doc['code']).lower()}-{doc['name']}"


def scope_text(doc: Mapping[str, Any]) -> str:
    scope = doc.get("scope") or {}
    parts = [
        "modes: " + ", ".join(scope["modes"]) if scope.get("modes") else "all modes",
        "families: " + ", ".join(scope["families"]) if scope.get("families") else "all families",
    ]
    if doc.get("kind") != "engine":
        parts.append("fields: " + ", ".join(scope.get("fields") or ("prompt", "shot")))
    return "; ".join(parts)


def fix_text(doc: Mapping[str, Any]) -> str:
    fix = doc.get("fix")
    if not fix:
        return "none"
    return (
        "safe (applied by --fix)" if fix.get("safe") else "unsafe (applied by --fix --unsafe-fixes)"
    )


def summary(doc: Mapping[str, Any]) -> str:
    """One line about a rule: the first sentence of what it checks."""
    docs = doc.get("docs") or {}
    text = " ".join(str(docs.get("what") or doc.get("message") or "").split())
    m = _SENTENCE_END.search(text)
    return text[: m.start() + 1] if m else text


def _options(doc: Mapping[str, Any]) -> str:
    docs = doc.get("docs") or {}
    parts = []
    if docs.get("options"):
        parts.append(" ".join(str(docs["options"]).split()))
    if doc.get("options"):
        parts.append(
            "defaults: " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in doc["options"].items())
        )
    return "; ".join(parts) or "none"


def rule_text(doc: Mapping[str, Any]) -> str:
    """The terminal page of one rule."""
    docs = doc.get("docs") or {}
    lines = [
        f"{doc['code']} {doc['name']}",
        "",
        f"severity: {doc['severity']}",
        f"kind: {doc.get('kind', 'code')}",
        f"scope: {scope_text(doc)}",
        f"fix: {fix_text(doc)}",
        f"source: {doc.get('source', '')}",
        f"options: {_options(doc)}",
        f"docs: {docs_url(str(doc['code']), str(doc['name']))}",
    ]
    for key, title in (
        ("what", "What it checks"),
        ("why", "Why"),
        ("bad", "Bad"),
        ("good", "Good"),
    ):
        if docs.get(key):
            lines += ["", f"{title}:"]
            lines += [f"    {line}" for line in str(docs[key]).strip().splitlines()]
    return "\n".join(lines) + "\n"


def listing(docs: Sequence[Mapping[str, Any]]) -> str:
    """One line per rule: code, name, severity and what it checks."""
    width = max((len(str(d["name"])) for d in docs), default=0)
    return "".join(
        f"{d['code']}  {d['name']!s:<{width}}  {d['severity']:<7}  {summary(d)}\n" for d in docs
    )


def as_json(docs: Sequence[Mapping[str, Any]]) -> str:
    """Every rule as JSON, for tools."""
    keys = (
        "code",
        "name",
        "severity",
        "kind",
        "scope",
        "message",
        "source",
        "options",
        "fix",
        "docs",
    )
    items = []
    for doc in docs:
        item = {k: doc.get(k) for k in keys}
        item["url"] = docs_url(str(doc["code"]), str(doc["name"]))
        items.append(item)
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def _md_block(text: str) -> list[str]:
    body = str(text).rstrip("\n")
    fence = "````" if "```" in body else "```"
    return [f"{fence}text", body, fence]


def markdown(docs: Sequence[Mapping[str, Any]]) -> str:
    """The ``docs/rules.md`` reference page."""
    out = [
        "# Rules",
        "",
        "<!-- Generated from rules/ by `" + REGENERATE + "`; do not edit by hand. -->",
        "",
        "Every rule `kling-prompt lint` checks, with its code, name, default severity, scope and fix.",
        "Select or ignore rules by code, prefix or name in `[tool.kling-prompt]`; print one rule with",
        "`kling-prompt rule CODE`. Info rules are hidden unless `--show-info` (or `show-info = true`).",
        "",
        "| code | name | severity | fix | checks |",
        "|---|---|---|---|---|",
    ]
    for doc in docs:
        fix = "safe" if (doc.get("fix") or {}).get("safe") else ("unsafe" if doc.get("fix") else "")
        cell = summary(doc).replace("|", "\\|")
        out.append(
            f"| [{doc['code']}](#{anchor(doc)}) | {doc['name']} | {doc['severity']} | {fix} | {cell} |"
        )
    family = None
    for doc in docs:
        prefix = str(doc["code"])[:3]
        if prefix != family:
            family = prefix
            out += ["", f"## {FAMILY_TITLES.get(prefix, prefix)}"]
        info = doc.get("docs") or {}
        out += [
            "",
            f"### {doc['code']} {doc['name']}",
            "",
            f"- severity: {doc['severity']}",
            f"- scope: {scope_text(doc)}",
            f"- fix: {fix_text(doc)}",
            f"- source: {doc.get('source', '')}",
            f"- options: {_options(doc)}",
        ]
        for key, title in (("what", "What it checks"), ("why", "Why")):
            if info.get(key):
                out += ["", f"**{title}.** " + " ".join(str(info[key]).split())]
        for key, title in (("bad", "Bad"), ("good", "Good")):
            if info.get(key):
                out += ["", f"{title}:", "", *_md_block(info[key])]
    return "\n".join(out) + "\n"
