"""``kling-prompt rule CODE|NAME`` and ``kling-prompt rules``: the rules' documentation.

Reads the rule files with their docs (PyYAML, imported by the handler only).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kling_prompt.errors import KlingPromptError


class UnknownRuleError(KlingPromptError):
    """A code or name given to ``kling-prompt rule`` matches no rule."""


def register(subparsers: Any) -> None:
    rule = subparsers.add_parser(
        "rule",
        help="print a rule's documentation (or --all: list every rule)",
        description="Print what a rule checks, why, its scope, severity, options and fix, with examples.",
    )
    rule.add_argument("rule", nargs="?", metavar="CODE|NAME", help="a rule code (KP301) or name")
    rule.add_argument(
        "--all", action="store_true", help="list every rule: code, name, severity, one line"
    )
    rule.set_defaults(func=run_rule)
    rules = subparsers.add_parser(
        "rules",
        help="every rule's documentation, for tools (text, json or markdown)",
        description="Print every rule: a listing (text), JSON for tools, or the docs/rules.md page (markdown).",
    )
    rules.add_argument("--output-format", choices=("text", "json", "markdown"), default="text")
    rules.set_defaults(func=run_rules)


def _documents() -> list[dict[str, Any]]:
    from kling_prompt.linter.loader import load_documents

    return load_documents()[0]


def find(docs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The rule whose code or name is ``key`` (codes case-insensitively)."""
    for doc in docs:
        if str(doc["code"]).upper() == key.upper() or doc["name"] == key.lower():
            return doc
    import difflib

    names = [str(d["code"]) for d in docs] + [str(d["name"]) for d in docs]
    near = difflib.get_close_matches(key, names, n=3)
    hint = f"did you mean {', '.join(near)}? " if near else ""
    raise UnknownRuleError(f"no rule {key!r}; {hint}list the rules with 'kling-prompt rule --all'")


def run_rule(args: argparse.Namespace) -> int:
    from kling_prompt.linter import docs as rule_docs

    documents = _documents()
    if args.all:
        sys.stdout.write(rule_docs.listing(documents))
        return 0
    if not args.rule:
        raise UnknownRuleError(
            "give a rule code or name (kling-prompt rule KP301), or --all to list them"
        )
    sys.stdout.write(rule_docs.rule_text(find(documents, args.rule)))
    return 0


def run_rules(args: argparse.Namespace) -> int:
    from kling_prompt.linter import docs as rule_docs

    documents = _documents()
    render = {"text": rule_docs.listing, "json": rule_docs.as_json, "markdown": rule_docs.markdown}
    sys.stdout.write(render[args.output_format](documents))
    return 0
