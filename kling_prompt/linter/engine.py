"""The lint engine: runs the active rules on a request, maps positions, applies suppressions.

Rules are selected once per (mode, family, file ignores) combination and cached, so a run over
thousands of prompts pays for selection a handful of times. A rule that raises becomes a KP006
diagnostic for that input; it never stops the run.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from kling_prompt.linter.config import Config
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.lexicon import Matcher
from kling_prompt.linter.loader import load_runtime
from kling_prompt.linter.plan import Plan
from kling_prompt.linter.rules import Context, Rule, RuleMeta, build_rule, code_checks
from kling_prompt.linter.suppress import Directive, covers, extract
from kling_prompt.linter.text import line_of
from kling_prompt.request import Origin, Request, SourceMap, Span, get_field, set_field

ENGINE_RULES = ("KP001", "KP002", "KP003", "KP004", "KP005", "KP006")
_FIELD_ORDER = {"prompt": 0, "negative_prompt": 2}


class Linter:
    """Lints requests with a fixed configuration and rule set."""

    def __init__(
        self,
        config: Config | None = None,
        *,
        rules_dirs: list[str] | None = None,
        gates: bool = True,
        skip_hidden: bool = False,
    ) -> None:
        """``gates=False`` calls every active rule whatever its ``when:`` gate says (the gates
        only save time; tests compare both ways).

        ``skip_hidden=True`` does not run rules that can only report info while info is hidden
        (the config's ``show-info`` is off and ``fail-on`` is not info), as the command line
        does: their diagnostics would be thrown away. A request with suppression directives
        still runs every rule, so that no directive is reported unused for a rule not run.
        """
        self.config = config if config is not None else Config()
        self.gates = gates
        self.skip_hidden = skip_hidden and not (
            self.config.show_info or self.config.fail_on == "info"
        )
        data = load_runtime(rules_dirs)
        self.metas: dict[str, RuleMeta] = {}
        for doc in data["rules"]:
            meta = RuleMeta(doc)
            self.metas[meta.code] = meta
        self.names: dict[str, str] = {code: meta.name for code, meta in self.metas.items()}
        self.by_name: dict[str, str] = {meta.name: code for code, meta in self.metas.items()}
        self.matcher = Matcher(data["lexicon"])
        checks = code_checks()
        self.rules: list[Rule] = [
            build_rule(meta, checks) for meta in self.metas.values() if meta.kind != "engine"
        ]
        self.severity: dict[str, str] = {
            code: self.config.severity_for(code, meta.name, meta.severity)
            for code, meta in self.metas.items()
        }
        self.config.check_codes(self.names)
        self._active: dict[tuple[Any, ...], list[Rule]] = {}
        # Per selection: the rules compiled into one gate decision per request.
        self._plans: dict[int, tuple[list[Rule], Plan]] = {}
        # (mode, family, file, complete, skip_hidden, gates) -> its plan: one lookup per request.
        self._plan_for: dict[tuple[Any, ...], Plan] = {}
        self._resolved: dict[tuple[str | None, str | None], tuple[Any, str | None, str | None]] = {}
        self._options: dict[str, dict[str, Any]] = {}
        if self.config.word_budget:
            self._options.setdefault("KP401", {})["budgets"] = self.config.word_budget
        if self.config.min_words:
            self._options.setdefault("KP402", {})["minimums"] = self.config.min_words
        if self.config.budget is not None:
            self._options.setdefault("KP114", {})["budget"] = self.config.budget

    # -- selection --------------------------------------------------------------------------
    def enabled(self, code: str, filename: str | None = None) -> bool:
        name = self.names.get(code, "")
        return self.config.enabled(code, name, filename)

    def active(
        self,
        mode: str | None,
        family: str | None,
        filename: str | None,
        *,
        complete: bool = False,
    ) -> list[Rule]:
        """The rules that run for a mode, family and file; ``complete`` includes those that
        ``skip_hidden`` leaves out."""
        ignored = tuple(self.config.ignored_for(filename)) if filename else ()
        skip = self.skip_hidden and not complete
        key = (mode, family, ignored, skip)
        rules = self._active.get(key)
        if rules is None:
            rules = [
                r
                for r in self.rules
                if r.meta.applies(mode, family)
                and self.config.enabled(r.meta.code, r.meta.name, filename)
                and not (skip and self._hidden(r.meta))
            ]
            self._active[key] = rules
        return rules

    def _hidden(self, meta: RuleMeta) -> bool:
        """Whether every diagnostic of the rule is info (a configured severity is final)."""
        if self.severity.get(meta.code, meta.severity) != "info":
            return False
        configured = self.severity.get(meta.code) != meta.severity
        return configured or meta.raises_to in (None, "info")

    def plan(
        self,
        mode: str | None,
        family: str | None,
        filename: str | None,
        *,
        complete: bool = False,
    ) -> Plan:
        """The compiled selection of rules for a mode, endpoint family and file."""
        key = (mode, family, filename, complete, self.skip_hidden, self.gates)
        remembered = self._plan_for.get(key)
        if remembered is not None:
            return remembered
        if len(self._plan_for) >= 4096:  # one entry per file: forget them now and then
            self._plan_for.clear()
        plan = self._plan_for[key] = self._compile_plan(mode, family, filename, complete)
        return plan

    def _compile_plan(
        self, mode: str | None, family: str | None, filename: str | None, complete: bool
    ) -> Plan:
        rules = self.active(mode, family, filename, complete=complete)
        found = self._plans.get(id(rules))
        if found is not None and found[0] is rules:
            return found[1]
        plan = Plan(
            rules,
            gates=self.gates,
            matcher=self.matcher,
            options=self._options,
            mode=mode,
            family=family,
        )
        self._plans[id(rules)] = (rules, plan)
        return plan

    # -- running ----------------------------------------------------------------------------
    def resolve(self, request: Request) -> tuple[Any, str | None, str | None]:
        """Endpoint facts, mode and family of a request (facts are ``None`` when unknown)."""
        key = (request.endpoint, request.mode)
        found = self._resolved.get(key)
        if found is not None:
            return found
        info = None
        if request.endpoint:
            info = endpoint_info(request.endpoint)
        mode = request.mode or (getattr(info, "mode", None) if info is not None else None)
        family = getattr(info, "family", None) if info is not None else None
        found = self._resolved[key] = (info, mode, family)
        return found

    def lint(self, request: Request, *, directives: Sequence[Directive] = ()) -> list[Diagnostic]:
        """All diagnostics for one request, mapped to source positions, suppressions applied."""
        fields = request.text_fields()
        for _, text in fields:
            if "{#" in text:
                request, found = prepare(request)
                if found:
                    directives = [*directives, *found]
                fields = request.text_fields()
                break
        info, mode, family = self.resolve(request)
        ctx = Context(
            request,
            info=info,
            mode=mode,
            family=family,
            matcher=self.matcher,
            config=self.config,
            fields=fields,
            options=self._options,
            severity=self.severity,
        )
        out: list[Diagnostic] = []
        plan = self.plan(mode, family, request.path, complete=bool(directives))
        for check, meta in plan.select(ctx):
            try:
                out.extend(check(ctx, meta))
            except Exception as exc:  # a broken rule must not break the run
                if self.enabled("KP006", request.path):
                    out.append(
                        Diagnostic(
                            "KP006",
                            "internal-error",
                            self.severity.get("KP006", "error"),
                            f"rule {meta.code} ({meta.name}) failed on this input: "
                            f"{type(exc).__name__}: {exc}; the other rules still ran. "
                            "Please report this with the input.",
                        )
                    )
        for diag in out:
            place(diag, request)
        if directives:
            out = self._suppress(out, directives, request)
        if len(out) > 1:
            out.sort(key=_order)
        return out

    def _suppress(
        self, diagnostics: list[Diagnostic], directives: Sequence[Directive], request: Request
    ) -> list[Diagnostic]:
        if not directives:
            return diagnostics
        kept: list[Diagnostic] = []
        for diag in diagnostics:
            line = None
            if diag.field is not None and diag.start is not None:
                text = _field_text(request, diag.field)
                if text is not None:
                    line = line_of(text, diag.start)
            suppressed = False
            for d in directives:
                if covers(d, diag.code, diag.name, diag.field, line, diag.line):
                    d.used.add(diag.code)
                    suppressed = True
            if not suppressed:
                kept.append(diag)
        for d in directives:
            extra = self._directive_diagnostics(d, request)
            kept.extend(extra)
        return kept

    def _directive_diagnostics(self, d: Directive, request: Request) -> list[Diagnostic]:
        from kling_prompt.linter.config import selects

        out: list[Diagnostic] = []
        if not d.codes:
            if self.enabled("KP005", request.path):
                out.append(
                    self._directive_diag(
                        "KP005",
                        "unknown-rule",
                        "suppression names no rule; write the codes, e.g. {# kp-ignore: KP301 #}",
                        d,
                        request,
                    )
                )
            return out
        for selector in d.codes:
            matched = [c for c, n in self.names.items() if selects(selector, c, n)]
            if not matched:
                if self.enabled("KP005", request.path):
                    out.append(
                        self._directive_diag(
                            "KP005",
                            "unknown-rule",
                            f"suppression names {selector!r}, which matches no rule; "
                            "check the code with 'kling-prompt rule --all'",
                            d,
                            request,
                        )
                    )
                continue
            if not any(c in d.used for c in matched) and d.required:
                diag = self._directive_diag(
                    "KP004",
                    "unused-suppression",
                    f"expected {selector} here, but it was not reported; "
                    "update the example's 'expect' list or the prompt",
                    d,
                    request,
                )
                diag.severity = "error"
                out.append(diag)
                continue
            if not any(c in d.used for c in matched) and self.enabled("KP004", request.path):
                out.append(
                    self._directive_diag(
                        "KP004",
                        "unused-suppression",
                        f"unused suppression of {selector}: no {selector} diagnostic here; remove it",
                        d,
                        request,
                    )
                )
        return out

    def _directive_diag(
        self, code: str, name: str, message: str, d: Directive, request: Request
    ) -> Diagnostic:
        diag = Diagnostic(
            code,
            name,
            self.severity.get(code, "warning"),
            message,
            field=d.field,
            start=d.start,
            end=d.end,
        )
        if d.file_line is not None:
            diag.line = d.file_line
            diag.column = d.file_column or 1
            diag.end_line, diag.end_column = diag.line, diag.column
            diag.filename = request.path
            diag.record = request.record
        else:
            place(diag, request)
        return diag

    def config_diagnostics(self) -> list[Diagnostic]:
        """KP005 for unknown keys and rule codes in the config file."""
        out: list[Diagnostic] = []
        if not self.enabled("KP005"):
            return out
        for issue in self.config.issues:
            out.append(
                Diagnostic(
                    "KP005",
                    "unknown-rule",
                    self.severity.get("KP005", "error"),
                    issue.message,
                    filename=issue.path,
                    line=issue.line,
                    column=1 if issue.line else None,
                    end_line=issue.line,
                    end_column=1 if issue.line else None,
                )
            )
        return out


def endpoint_info(endpoint: str) -> Any:
    """Catalog facts for an endpoint id, or ``None`` when the id is unknown."""
    try:
        from kling_prompt.catalog import data as catalog_data
    except ImportError:
        return None
    try:
        return catalog_data.get(endpoint)
    except LookupError:
        return None


def _field_text(request: Request, field: str) -> str | None:
    try:
        value = get_field(request.arguments, field)
    except (KeyError, ValueError):
        return None
    return value if isinstance(value, str) else None


def _order(d: Diagnostic) -> tuple[Any, ...]:
    field = d.field or ""
    rank = _FIELD_ORDER.get(field, 1)
    return (d.line or 0, d.column or 0, rank, field, d.start if d.start is not None else -1, d.code)


def place(diag: Diagnostic, request: Request) -> None:
    """Fill the file, record and line/column of a diagnostic from the request's source map."""
    if diag.filename is None:
        diag.filename = request.path
    if diag.record is None:
        diag.record = request.record
    if diag.line is not None or diag.field is None:
        return
    smap = request.source_map
    if not smap:
        return
    field = diag.field
    text = _field_text(request, field) or ""
    start = diag.start or 0
    # Fall back from a nested path (elements[0].frontal_image_url) to its parents.
    candidate = field
    while candidate and not smap.spans(candidate):
        candidate = _parent(candidate)
    if not candidate:
        return
    if candidate != field:
        start, text = 0, ""
    origin, line, column = smap.position(candidate, start, text)
    if line is None:
        return
    diag.filename = origin.path or diag.filename
    diag.line, diag.column = line, column
    end = diag.end if diag.end is not None and candidate == field else start
    _, end_line, end_column = smap.position(candidate, end, text)
    diag.end_line = end_line if end_line is not None else line
    diag.end_column = end_column if end_column is not None else column


def _parent(path: str) -> str:
    """The parent of a field path (``elements[0].url`` -> ``elements[0]`` -> ``elements``)."""
    if path.endswith("]") and "[" in path:
        return path[: path.rindex("[")]
    if "." in path:
        return path.rsplit(".", 1)[0]
    return ""


def prepare(request: Request) -> tuple[Request, list[Directive]]:
    """Remove suppression directives from the request's text fields, remapping the source map.

    Returns the request unchanged when no text field holds a directive.
    """
    fields = [(f, t) for f, t in request.text_fields() if "{#" in t]
    if not fields:
        return request, []
    arguments = copy.deepcopy(request.arguments)
    smap = SourceMap()
    directives: list[Directive] = []
    changed: dict[str, list[tuple[int, int, int]]] = {}
    texts: dict[str, str] = {}
    for field, text in fields:
        clean, found, segments = extract(text, field)
        set_field(arguments, field, clean)
        directives.extend(found)
        changed[field] = segments
        texts[field] = text
    for span in request.source_map:
        if span.field in changed:
            smap.extend(remap(span, changed[span.field], texts[span.field]))
        else:
            smap.add(span)
    clean_request = Request(
        request.endpoint,
        arguments,
        source_map=smap,
        mode=request.mode,
        path=request.path,
        record=request.record,
        spec=request.spec,
    )
    return clean_request, directives


def remap(span: Span, segments: Iterable[tuple[int, int, int]], raw: str) -> list[Span]:
    """Carry a span over raw text into the cleaned text whose kept segments are given."""
    out: list[Span] = []
    for clean_start, clean_end, raw_start in segments:
        raw_end = raw_start + (clean_end - clean_start)
        lo, hi = max(span.start, raw_start), min(span.end, raw_end)
        if lo > hi or (lo == hi and span.start != span.end):
            continue
        origin = span.origin
        if origin.verbatim and origin.line is not None and lo > span.start:
            inner = raw[span.start : lo]
            newlines = inner.count("\n")
            if newlines:
                line, column = origin.line + newlines, lo - span.start - inner.rfind("\n")
            else:
                line, column = origin.line, (origin.column or 1) + (lo - span.start)
            origin = Origin(origin.field, path=origin.path, line=line, column=column, verbatim=True)
        out.append(
            Span(span.field, clean_start + (lo - raw_start), clean_start + (hi - raw_start), origin)
        )
    return out


_LINTERS: dict[int, Linter] = {}


def default_linter(config: Config | None = None) -> Linter:
    """A cached linter per config object (``None``: the defaults)."""
    key = id(config) if config is not None else 0
    linter = _LINTERS.get(key)
    if linter is None or (config is not None and linter.config is not config):
        linter = Linter(config)
        _LINTERS[key] = linter
    return linter
