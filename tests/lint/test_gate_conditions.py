"""The ``unless`` gate of KP303 (no-motion) only names keys that make a text move.

The gate closes KP303 when every text field has a hit of one of its keys; that is right only if
each phrase carrying such a key makes :func:`has_motion` true on its own. This checks every such
phrase of the lexicons, so a phrase added to a lexicon later is covered too.
"""

from __future__ import annotations

from kling_prompt.linter import Linter
from kling_prompt.linter.checks.motion import has_motion
from kling_prompt.linter.text import Analysis
from kling_prompt.request import Request

_LINTER = Linter()


def test_every_phrase_of_a_kp303_unless_key_has_motion() -> None:
    unless = _LINTER.metas["KP303"].when
    assert unless is not None
    assert "motion-verbs" in unless.unless
    matcher = _LINTER.matcher
    phrases = sorted({p for key in unless.unless for p in matcher.phrases(key)})
    assert len(phrases) > 200
    still = [p for p in phrases if not has_motion(Analysis(p, matcher=matcher))]
    assert still == []


def test_kp303_still_reports_a_shot_without_motion_next_to_one_with_it() -> None:
    request = Request(
        "fal-ai/kling-video/v3/pro/text-to-video",
        {
            "multi_prompt": [
                {"prompt": "A woman walks into the rain.", "duration": "5"},
                {"prompt": "A portrait of an old fisherman, grey beard.", "duration": "5"},
            ],
            "shot_type": "customize",
        },
    )
    found = [d for d in _LINTER.lint(request) if d.code == "KP303"]
    assert [d.field for d in found] == ["multi_prompt[1].prompt"]
