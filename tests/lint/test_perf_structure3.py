"""Third round of fast paths in the KP3xx/KP4xx checks, each compared with the plain computation.

As in ``test_perf_structure.py`` and ``test_perf_structure2.py``: generated texts aimed at the
corners of each fast path, and the real-prompt corpus when it is available.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_perf_structure import LINTER, _context
from test_perf_structure2 import _FR_ANY, ref_first_repeat

from kling_prompt.linter.checks import structure
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.rules import Context, RuleMeta

META = {rule.meta.code: rule.meta for rule in LINTER.rules}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _dicts(diagnostics: Any) -> list[dict[str, Any]]:
    return [d.to_dict() for d in diagnostics]


def _with_options(ctx: Context, code: str, options: dict[str, Any] | None) -> Context:
    if options is not None:
        ctx.options = {code: options}
    return ctx


# -- KP408: the word count after the superset, a length bound before it -------------------------


def ref_repeated_phrase(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    """The check as written before its fast paths: every text with enough words, every segment,
    and the stop-word condition on the loose words of the whole text."""
    size = int(ctx.option(meta, "min_words", 4))
    out = []
    for a in ctx.texts(meta):
        if a.word_count < 2 * size:
            continue
        if not structure._may_repeat(a.lower, size):
            continue
        for lo, hi in a.segments():
            hit = ref_first_repeat(a, lo, hi, size)
            if hit is not None:
                start, end = hit
                out.append(
                    ctx.report(meta, field=a.field, start=start, end=end, match=a.text[start:end])
                )
    return out


@SETTINGS
@given(text=_FR_ANY, size=st.sampled_from([None, -1, 0, 1, 2, 3, 4, 5]))
def test_repeated_phrase_any_size(text: str, size: int | None) -> None:
    meta = META["KP408"]
    options = None if size is None else {"min_words": size}
    got = structure.repeated_phrase(_with_options(_context(text), "KP408", options), meta)
    expected = ref_repeated_phrase(_with_options(_context(text), "KP408", options), meta)
    assert _dicts(got) == _dicts(expected)


def test_repeated_phrase_on_short_texts_with_long_words() -> None:
    # Few whitespace words, many loose words: the word count still rules them out.
    meta = META["KP408"]
    for text in ("red,kite,flies,high. red,kite,flies,high", "a b c d e f g h", "x y"):
        for size in (1, 2, 4):
            ctx = _with_options(_context(text), "KP408", {"min_words": size})
            expected = ref_repeated_phrase(
                _with_options(_context(text), "KP408", {"min_words": size}), meta
            )
            assert _dicts(structure.repeated_phrase(ctx, meta)) == _dicts(expected)
