"""The compiled plan picks exactly the rules whose gates are open.

:class:`Plan` folds every ``when:`` gate of a selection into bit masks; these tests compare its
choice with calling :meth:`Gate.open` rule by rule, on random gates and requests (including
nested ``any:`` gates that fall back to calling the gate) and on the real rules.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_gates import _case_requests, _corpus_requests

from kling_prompt.linter import Config, Linter
from kling_prompt.linter.lexicon import Hit
from kling_prompt.linter.plan import Plan
from kling_prompt.linter.rules import Context, Gate, Rule, RuleMeta, gate_check, length_bound

KEYS = ["camera", "camera.orbit", "motion", "speech", "negation"]
TEXTS = ["@", "++", '"', "shot"]
ARGS = ["negative_prompt", "duration", "multi_prompt"]
CALLS: list[str] = []


def _counted(name: str, test: Any) -> Any:
    def check(ctx: Any) -> bool:
        CALLS.append(name)
        return bool(test(ctx))

    return check


# Pre-checks for the generated gates (registered once, under names no rule file uses).
PRECHECKS = {
    "test-has-at": _counted("test-has-at", lambda ctx: "@" in ctx.lower_text),
    "test-has-duration": _counted("test-has-duration", lambda ctx: "duration" in ctx.arguments),
}
for _name, _fn in PRECHECKS.items():
    gate_check(_name)(_fn)

# Length bounds for the generated gates: a fixed one, one read from the rule's options (absent
# for some rules: no bound), and one no text passes.
length_bound("test-longer-4")(lambda meta, options, mode, family: 4)
length_bound("test-longer-limit")(lambda meta, options, mode, family: options.get("limit"))
length_bound("test-longer-by-mode")(lambda meta, options, mode, family: 2 if mode == "short" else 8)
OPTIONS = ["budget", "limit"]
LONGER = ["test-longer-4", "test-longer-limit", "test-longer-by-mode"]


def _gates(depth: int = 2) -> st.SearchStrategy[Gate]:
    def build(alternatives: list[Gate]) -> st.SearchStrategy[Gate]:
        return st.builds(
            Gate,
            st.lists(st.sampled_from(KEYS), max_size=2),
            st.lists(st.sampled_from(TEXTS), max_size=2),
            st.lists(st.sampled_from(ARGS), max_size=2),
            st.booleans(),
            st.just(alternatives),
            checks=st.lists(st.sampled_from(sorted(PRECHECKS)), max_size=2),
            unless=st.lists(st.sampled_from(KEYS), max_size=2),
            options=st.lists(st.sampled_from(OPTIONS), max_size=2),
            longer=st.one_of(st.none(), st.sampled_from(LONGER)),
        )

    leaf = build([])
    if depth == 0:
        return leaf
    return st.one_of(leaf, st.lists(_gates(depth - 1), min_size=1, max_size=3).flatmap(build))


class _Analysis:
    def __init__(self, hits: list[Hit], text: str = "") -> None:
        self.text = text
        self.hits = hits
        self.matched = [h.phrase for h in hits]
        self.keys = frozenset(k for h in hits for k in h.keys)


class _Matcher:
    def __init__(self, hits: list[Hit]) -> None:
        self._keys = {h.phrase: h.keys for h in hits}

    def keys_of_match(self, raw: str) -> tuple[str, ...]:
        return self._keys.get(raw, ())


class _Ctx:
    def __init__(
        self,
        hits: list[Hit],
        lower: str,
        arguments: dict[str, Any],
        info: Any,
        fields: list[list[Hit]] | None = None,
        *,
        lengths: list[int] = (),  # type: ignore[assignment]
        mode: str | None = None,
        options: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """``fields``: the hits of each text field (default: one field holding ``hits``);
        ``lengths``: the length of each field's text (default: none)."""
        per_field = fields if fields is not None else [hits]
        self.analyses = [
            _Analysis(h, "x" * (lengths[i] if i < len(lengths) else 0))
            for i, h in enumerate(per_field)
        ]
        self.mode = mode
        self.family = None
        self.options = options or {}
        self.matcher = _Matcher(hits)
        self.lower_text = lower
        self.arguments = arguments
        self.info = info
        self._keys = frozenset(k for a in self.analyses for k in a.keys)

    @property
    def present_keys(self) -> frozenset[str]:
        return self._keys


def _rule(index: int, gate: Gate | None, options: dict[str, Any] | None = None) -> Rule:
    meta = RuleMeta(
        {"code": f"KP9{index:02d}", "name": f"r{index}", "severity": "info", "options": options}
    )
    meta.when = gate
    return Rule(meta, lambda ctx: [], lambda ctx, meta: [])


@settings(max_examples=300, deadline=None)
@given(
    gates=st.lists(st.one_of(st.none(), _gates()), min_size=1, max_size=8),
    hit_keys=st.lists(st.lists(st.sampled_from(KEYS), min_size=1, max_size=2), max_size=3),
    texts=st.lists(st.sampled_from(TEXTS), max_size=3),
    args=st.lists(st.sampled_from(ARGS), max_size=3),
    known=st.booleans(),
    field_of=st.lists(st.integers(0, 2), max_size=3),
    fields=st.integers(0, 3),
    lengths=st.lists(st.integers(0, 10), max_size=3),
    mode=st.sampled_from([None, "short", "long"]),
    rule_options=st.lists(st.sampled_from([None, {"limit": 3}, {"limit": None}]), max_size=8),
    configured=st.dictionaries(
        st.integers(0, 7), st.sampled_from([{"budget": 1}, {"budget": None}, {"limit": 6}])
    ),
)
def test_plan_matches_gate_open(
    gates: list[Gate | None],
    hit_keys: list[list[str]],
    texts: list[str],
    args: list[str],
    known: bool,
    field_of: list[int],
    fields: int,
    lengths: list[int],
    mode: str | None,
    rule_options: list[dict[str, Any] | None],
    configured: dict[int, dict[str, Any]],
) -> None:
    rules = [
        _rule(i, g, rule_options[i] if i < len(rule_options) else None) for i, g in enumerate(gates)
    ]
    options = {f"KP9{i:02d}": value for i, value in configured.items()}
    hits = [
        Hit(i, i + 1, f"p{'-'.join(keys)}", tuple(keys), None) for i, keys in enumerate(hit_keys)
    ]
    # The hits spread over ``fields`` text fields (``unless`` needs a hit in every one).
    per_field: list[list[Hit]] = [[] for _ in range(fields)]
    for i, hit in enumerate(hits):
        if fields:
            per_field[(field_of[i] if i < len(field_of) else 0) % fields].append(hit)
    ctx: Any = _Ctx(
        hits,
        " ".join(texts),
        dict.fromkeys(args, 1),
        object() if known else None,
        per_field,
        lengths=lengths,
        mode=mode,
        options=options,
    )
    expected = [r.meta.code for r in rules if r.meta.when is None or r.meta.when.open(ctx, r.meta)]
    plan = Plan(rules, matcher=ctx.matcher, options=options, mode=mode)
    del CALLS[:]
    chosen = [meta.code for _, meta in plan.select(ctx)]
    assert chosen == expected
    if not plan.fallback:  # a gate Plan cannot flatten is asked with Gate.open, checks and all
        assert len(CALLS) == len(set(CALLS))  # each pre-check at most once per request
    assert [meta.code for _, meta in plan.select(ctx)] == expected  # again, from its memory
    assert [meta.code for _, meta in Plan(rules, gates=False).select(ctx)] == [
        r.meta.code for r in rules
    ]


def test_plan_matches_gate_open_on_the_real_rules() -> None:
    inputs = [(c, r) for c, r in _case_requests()] + [(None, r) for r in _corpus_requests()]
    linters: dict[str, Linter] = {}
    compared = 0
    for config, request in inputs:
        key = repr(sorted((config or {}).items()))
        linter = linters.get(key) or linters.setdefault(key, Linter(Config(dict(config or {}))))
        info, mode, family = linter.resolve(request)
        ctx = Context(
            request, info=info, mode=mode, family=family, matcher=linter.matcher, config=None
        )
        ctx.options = linter._options
        active = linter.active(mode, family, request.path)
        expected = [
            r.meta.code for r in active if r.meta.when is None or r.meta.when.open(ctx, r.meta)
        ]
        chosen = [meta.code for _, meta in linter.plan(mode, family, request.path).select(ctx)]
        assert chosen == expected, request.arguments
        compared += 1
    assert compared > 300


def test_remembered_picks_belong_to_their_own_mask() -> None:
    rules = [_rule(0, Gate(text=["@"])), _rule(1, Gate(text=["++"]))]
    plan = Plan(rules)
    first: Any = _Ctx([], "@", {}, None)
    nothing: Any = _Ctx([], "plain", {}, None)
    assert [meta.code for _, meta in plan.select(first)] == ["KP900"]
    assert plan.select(nothing) == []
    assert [meta.code for _, meta in plan.select(first)] == ["KP900"]


def test_unless_closes_only_when_every_text_field_has_the_key() -> None:
    rules = [_rule(0, Gate(unless=["motion"]))]
    plan = Plan(rules)
    moving = Hit(0, 1, "walks", ("motion",), None)
    both: Any = _Ctx([moving], "", {}, None, [[moving], [moving]])
    one: Any = _Ctx([moving], "", {}, None, [[moving], []])
    none: Any = _Ctx([], "", {}, None, [])
    plan = Plan(rules, matcher=both.matcher)
    assert plan.select(both) == []
    assert [meta.code for _, meta in plan.select(one)] == ["KP900"]
    assert [meta.code for _, meta in plan.select(none)] == ["KP900"]  # no text: stays open


def test_a_shared_pre_check_runs_once_and_only_when_needed() -> None:
    gate = Gate(checks=["test-has-at"])
    rules = [_rule(0, gate), _rule(1, gate), _rule(2, Gate(text=["++"], checks=["test-has-at"]))]
    plan = Plan(rules)
    del CALLS[:]
    assert [m.code for _, m in plan.select(_Ctx([], "@x", {}, None))] == ["KP900", "KP901"]
    assert CALLS == ["test-has-at"]
    del CALLS[:]
    rules = [_rule(0, Gate(text=["++"], checks=["test-has-at"]))]
    assert Plan(rules).select(_Ctx([], "@x", {}, None)) == []
    assert CALLS == []  # the text condition closed the gate first


def test_unknown_gate_conditions_and_pre_checks_are_errors() -> None:
    with pytest.raises(ValueError, match="unles"):
        Gate.parse({"unles": ["motion"]}, "KP999")
    with pytest.raises(RuntimeError, match="no gate check named 'nope'"):
        Plan([_rule(0, Gate(checks=["nope"]))])
    with pytest.raises(RuntimeError, match="no length bound named 'nope'"):
        Plan([_rule(0, Gate(longer="nope"))])


def test_options_and_length_conditions_are_decided_once_per_selection() -> None:
    """``options`` closes a clause for good when no option it names is set; ``longer`` compares
    the longest text field with a bound computed when the plan is built."""
    rules = [
        _rule(0, Gate(options=["budget"])),
        _rule(1, Gate(longer="test-longer-4")),
        _rule(2, Gate(longer="test-longer-limit"), {"limit": 3}),
        _rule(3, Gate(longer="test-longer-limit")),  # no limit: no bound
    ]
    short: Any = _Ctx([], "", {}, None, lengths=[4])
    long: Any = _Ctx([], "", {}, None, [[], []], lengths=[0, 5])
    plan = Plan(rules)
    assert [m.code for _, m in plan.select(short)] == ["KP902", "KP903"]
    assert [m.code for _, m in plan.select(long)] == ["KP901", "KP902", "KP903"]
    configured = Plan(rules, options={"KP900": {"budget": 2.5}, "KP902": {"limit": 4}})
    assert [m.code for _, m in configured.select(short)] == ["KP900", "KP903"]
    # A rule whose only clause can never pass is never picked, even next to a rule of two.
    both = Gate(alternatives=[Gate(options=["budget"]), Gate(text=["@"])])
    plan = Plan([_rule(0, both), _rule(1, Gate(options=["budget"]))])
    assert [m.code for _, m in plan.select(_Ctx([], "@", {}, None))] == ["KP900"]


def test_real_length_and_option_gates_skip_the_rules_that_cannot_report() -> None:
    """KP101/KP102 wait for a prompt near 2,500 characters, KP401 for one over twice its word
    budget in characters, KP114 for a configured budget."""
    from kling_prompt.request import Request

    endpoint = "fal-ai/kling-video/v3/pro/text-to-video"

    def chosen(linter: Linter, prompt: str) -> set[str]:
        request = Request(endpoint, {"prompt": prompt}, mode="text-to-video")
        info, mode, family = linter.resolve(request)
        ctx = Context(
            request, info=info, mode=mode, family=family, matcher=linter.matcher, config=None
        )
        ctx.options = linter._options
        return {meta.code for _, meta in linter.plan(mode, family, None).select(ctx)}

    plain = Linter()
    assert not {"KP101", "KP102", "KP114", "KP401"} & chosen(plain, "A cat sleeps.")
    assert {"KP101", "KP102", "KP401"} <= chosen(plain, "a " * 1300)
    assert "KP102" in chosen(plain, "a" * 2301)
    assert "KP101" not in chosen(plain, "a" * 2301)
    assert "KP401" in chosen(plain, "a" * 301)
    assert "KP401" not in chosen(plain, "a" * 300)
    budgeted = Linter(Config({"budget": 1.0, "word-budget": {"text-to-video": 5}}))
    assert {"KP114", "KP401"} <= chosen(budgeted, "A cat sleeps on the sofa.")
    codes = [d.code for d in budgeted.lint(Request(endpoint, {"prompt": "a " * 6}))]
    assert "KP401" in codes
    assert "KP401" not in [d.code for d in plain.lint(Request(endpoint, {"prompt": "a " * 6}))]
