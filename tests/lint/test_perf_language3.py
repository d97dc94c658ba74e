"""The third round of fast paths in the KP6xx-KP9xx rules reports exactly what they did before.

Tighter gates are compared with the rules run ungated, on generated requests rich in what each
rule looks for (and on the real corpus when it is beside the project); each rule changed for
speed is compared with its previous definition, kept below as the reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_perf_language2 import _corpus, _prompts, _texts

from kling_prompt.catalog import data as catalog
from kling_prompt.linter import Config, Linter
from kling_prompt.linter.checks import camera, consistency, negative
from kling_prompt.linter.checks.consistency import any_digit
from kling_prompt.linter.checks.motion import camera_moves, move_of
from kling_prompt.linter.diagnostic import Diagnostic
from kling_prompt.linter.rules import Context, RuleMeta
from kling_prompt.linter.text import Analysis
from kling_prompt.request import Request

LINTER = Linter()
META = {rule.meta.code: rule.meta for rule in LINTER.rules}
CHECKS = {rule.meta.code: rule.fn for rule in LINTER.rules if rule.fn is not None}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
ENDPOINT = "fal-ai/kling-video/v3/pro/text-to-video"

# The rules whose gates this round tightened.
GATED = ["KP701", "KP702", "KP801", "KP803", "KP804", "KP805", "KP901", "KP904"]
_GATED_ON = Linter(Config({"select": GATED}))
_GATED_OFF = Linter(Config({"select": GATED}), gates=False)


# -- requests ------------------------------------------------------------------------------------


def _context(request: Request, options: dict[str, dict[str, Any]] | None = None) -> Context:
    info, mode, family = LINTER.resolve(request)
    ctx = Context(
        request, info=info, mode=mode, family=family, matcher=LINTER.matcher, config=LINTER.config
    )
    ctx.options = options if options is not None else LINTER._options
    ctx.severity = LINTER.severity
    return ctx


def _outcome(diagnostics: Iterable[Diagnostic]) -> list[dict[str, Any]]:
    return [d.to_dict() for d in diagnostics]


def _request(
    prompt: str, shots: list[str] | None = None, endpoint: str = ENDPOINT, **arguments: Any
) -> Request:
    args: dict[str, Any] = {"prompt": prompt, **arguments}
    if shots:
        args["multi_prompt"] = [{"prompt": s, "duration": "5"} for s in shots]
    return Request(endpoint, args)


# -- gates ---------------------------------------------------------------------------------------

_GATE_WORDS = [
    # digits of several scripts, time marks, durations, frame rates, counts
    "5", "12", "3.5", "1,000", "٣", "５", "１０", "𝟗", "0", "80s", "@Element1", "at", "after",
    "by", "the", "first", "in", "seconds", "s", "sec", "mark", "the 8-second mark", "(Duration:",
    "5s)", "duration", "fps", "frames per second", "frame", "shot", "shots", "Shot 3:", "three",
    "four", "ten", "puppies", "cats", "ultra slow motion", "high-speed camera",
    *["at the 8-second mark", "at the 3-second mark", "after 12 seconds", "by 6s"] * 4,
    "at ٣ seconds",
    "(Duration: 10s)", "(duration: 5 s)", "three shots", "a 4-shot sequence", "Shot 4:",
    "10 puppies", "five red balloons", "1000 fps",
    # camera moves, the static camera, the operator
    *LINTER.matcher.phrases("camera")[::4], "static camera", "locked-off", "the camera", "then",
    # contradictions
    *LINTER.matcher.phrases("contradictions")[::3], "fades into", "becomes",
]  # fmt: skip


def _gated_same(request: Request) -> None:
    on = _outcome(_GATED_ON.lint(request))
    off = _outcome(_GATED_OFF.lint(request))
    assert on == off, request.arguments


@SETTINGS
@given(prompt=_prompts(_GATE_WORDS), duration=st.sampled_from([None, "5", "10", 3]))
def test_tighter_gates_hide_no_diagnostic(
    prompt: tuple[str, list[str] | None], duration: str | int | None
) -> None:
    extra = {} if duration is None else {"duration": duration}
    _gated_same(_request(prompt[0], prompt[1], **extra))


def test_tighter_gates_examples() -> None:
    for text in (
        "The door opens and at the 8-second mark a dog runs in.",
        "Sunlight at the 4-second mark and rain at the 2-second mark.",
        "A harbour at dawn (Duration: 10s).",
        "At ٨ seconds the bell rings, at the ５-second mark it stops.",
        "Five red balloons, 10 puppies, ١٠ cats, 1000 fps, 240 frames per second.",
        "Static camera, the camera slowly pans left, pans right, tilts up, zooms in and orbits.",
        "A photorealistic city street in watercolor style, bright sunny day, dark moody shadows.",
        "Midday traffic under a starry night sky, slow motion and time-lapse, summer and winter.",
    ):
        _gated_same(_request(text))
        _gated_same(_request(text, duration="5"))
    _gated_same(
        Request(
            ENDPOINT,
            {
                "multi_prompt": [
                    {"prompt": "Three shots of a harbour (Duration: 5s).", "duration": "3"},
                    {"prompt": "Shot 3: gulls, at the 6-second mark they fly.", "duration": "4"},
                ]
            },
        )
    )


@SETTINGS
@given(text=st.one_of(_texts(_GATE_WORDS), st.text(max_size=60)))
def test_digit_gate_is_the_digit_pattern(text: str) -> None:
    for request in (_request(text), _request("", [text, "x"]), _request("x", negative_prompt=text)):
        ctx = _context(request)
        assert any_digit(ctx) == any(re.search(r"\d", a.text) for a in ctx.analyses)


def test_conflict_gates_name_a_key_of_every_pair() -> None:
    """A conflict needs both keys of a pair: a gate holding one key of each pair never hides
    one."""
    for code in ("KP701", "KP801"):
        meta = META[code]
        assert meta.kind == "conflict"
        gate = meta.when
        assert gate is not None
        assert (gate.text, gate.arguments, gate.alternatives, gate.checks) == ((), (), (), ())
        pairs = meta.spec["pairs"]
        assert pairs
        for pair in pairs:
            assert gate.keys & set(pair), (code, pair)


def test_move_gate_holds_every_move() -> None:
    """KP702 counts moves (``move_of`` of a camera hit, but the static camera): its gate holds
    the key of every move any camera phrase can count as."""
    gate = META["KP702"].when
    assert gate is not None
    assert (gate.text, gate.arguments, gate.alternatives) == ((), (), ())
    assert camera._move_keys(LINTER.matcher) <= gate.keys
    for phrase in LINTER.matcher.phrases("camera"):
        analysis = Analysis(phrase, matcher=LINTER.matcher)
        for hit in camera_moves(analysis):
            move = move_of(hit)
            assert move is None or move == "camera.static" or move in gate.keys, phrase


# -- the real corpus -----------------------------------------------------------------------------


def test_corpus_gates_hide_no_diagnostic() -> None:
    for request in _corpus():
        _gated_same(request)
        if "multi_prompt" in request.arguments:
            meta = META["KP803"]
            fast = _outcome(CHECKS["KP803"](_context(request), meta))
            assert fast == _outcome(ref_style_drift(_context(request), meta))
            for a in _context(request).analyses:
                assert consistency._opening(a) == ref_opening(a)


# -- KP603: items of the negative prompt ---------------------------------------------------------

_ITEM_PIECES = st.sampled_from(
    [
        "blur", "text", "low quality", "extra limbs", ",", ", ", ";", "; ", "\n", "\r", "\r\n",
        " ", "  ", "\t", "\xa0", ".", "..", "，", "、", "İ", "ſ", "中文", "no", "and the",
    ]
)  # fmt: skip


@SETTINGS
@given(text=st.one_of(st.lists(_ITEM_PIECES, max_size=20).map("".join), st.text(max_size=40)))
def test_items_are_the_term_pattern(text: str) -> None:
    expected = [(m.start(), m.end(), m.group()) for m in negative._TERM.finditer(text)]
    assert negative._items(text) == expected
    assert negative._items(text.lower()) == [
        (m.start(), m.end(), m.group()) for m in negative._TERM.finditer(text.lower())
    ]


# -- KP604: the diagnostic built directly --------------------------------------------------------


def test_default_negative_builds_what_report_builds() -> None:
    meta = META["KP604"]
    for endpoint in sorted(catalog.endpoint_ids()):
        for arguments in (
            {},
            {"prompt": "A lighthouse"},
            {"prompt": "x", "negative_prompt": " "},
            {"prompt": "x", "negative_prompt": 5},
            {"prompt": "x", "negative_prompt": "blur"},
        ):
            for severity in (None, "warning"):
                ctx = _context(Request(endpoint, dict(arguments)))
                if severity is not None:
                    ctx.severity = {**ctx.severity, "KP604": severity}
                found = list(CHECKS["KP604"](ctx, meta))
                expected = []
                field = negative._KP604_MESSAGES.get(ctx.info) if ctx.info is not None else None
                if (
                    field is not None
                    and field[1] is not None
                    and arguments.get("negative_prompt") != "blur"
                ):
                    expected = [
                        ctx.report(
                            meta, field[1], field="prompt" if "prompt" in arguments else None
                        )
                    ]
                assert _outcome(found) == _outcome(expected), (endpoint, arguments)


# -- KP804: time marks, the whitespace test before the substring pre-check -----------------------

_MARK_PIECES = st.sampled_from(
    [
        "at", "after", "by", "in", "within", "the", "first", "At", "ın", "5", "12", "2.5", "0.5",
        ".5", "5.", "٣", "５", "@Element1", "@Image2", "Shot 1", "x5", "s", "S", "sec", "seconds",
        "ſ", "mark", "-", " - ", " ", " ", "  ", "\n", "\t", "\xa0", ".", ",", "5s", "2.5s",
        "second", "secret", "80s",
    ]
)  # fmt: skip


@SETTINGS
@given(text=st.one_of(st.lists(_MARK_PIECES, max_size=24).map("".join), st.text(max_size=40)))
def test_find_time_marks_is_still_the_analysis(text: str) -> None:
    assert consistency.find_time_marks(Analysis(text)) == Analysis(text).time_marks


def test_find_time_marks_decimal_examples() -> None:
    for text in ("at 2.5s", "at 2.5 s, @Element1", "at 5 x and 2.5s", "at 5 ſec", "at 5 seconds"):
        assert consistency.find_time_marks(Analysis(text)) == Analysis(text).time_marks, text


# -- KP802 / KP803: multi-shot requests ----------------------------------------------------------


def ref_opening(a: Analysis) -> tuple[str, int, int] | None:
    skip_to = 0
    labels = a.shot_labels
    if labels and labels[0][1] <= len(a.text) - len(a.text.lstrip()) + 1:
        skip_to = labels[0][2]
    words = [t for t in a.tokens if t[1] >= skip_to and t[0] not in ".!?;:,"]
    if not words:
        return None
    first, start, end = words[0]
    if first in consistency._PRONOUN_OPENERS or first in consistency._SEQUENCE_OPENERS:
        return first, start, end
    if first == "after" and len(words) > 1 and words[1][0] in ("that", "this"):
        return "after " + words[1][0], start, words[1][2]
    return None


def ref_style_drift(ctx: Context, meta: RuleMeta) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    shots = [a for a in ctx.analyses if a.kind == "shot"]
    if len(shots) < 2:
        return out
    for prefix, group in consistency._STYLE_GROUPS:
        first: dict[str, tuple[Analysis, Any]] = {}
        for a in shots:
            for hit in a.hits:
                if a.in_quote(hit.start):
                    continue
                for key in hit.keys:
                    if key.startswith(prefix) and key not in first:
                        first[key] = (a, hit)
        shot_of = {key: a.shot_index for key, (a, _) in first.items()}
        if len(first) < 2 or len(set(shot_of.values())) < 2:
            continue
        ordered = sorted(first.values(), key=lambda v: ((v[0].shot_index or 0), v[1].start))
        base_a, base_hit = ordered[0]
        for a, hit in ordered[1:]:
            if a.shot_index == base_a.shot_index:
                continue
            out.append(
                ctx.report(
                    meta,
                    field=a.field,
                    start=hit.start,
                    end=hit.end,
                    first=base_a.text[base_hit.start : base_hit.end],
                    first_shot=consistency._n(base_a),
                    second=a.text[hit.start : hit.end],
                    second_shot=consistency._n(a),
                    group=group,
                )
            )
            break
    return out


_SHOT_WORDS = [
    "He", "she", "THEY", "his", "her", "their", "its", "him", "them", "then", "Next", "later",
    "afterwards", "continuing", "after", "After", "that", "this", "the", "woman", "fox", "walks",
    "Shot 2:", "shot 3.", "Scene 1)", "Shot 4 -", "scene", "shot", "@Element1", "@Image2",
    "[Host]", '"hi"', '[Old man] says: "he left"', "he's", "she’d", "o'he", "_he", "2", "…",
    *LINTER.matcher.phrases("contradictions")[::2],
]  # fmt: skip


def _shots(words: list[str]) -> st.SearchStrategy[list[str]]:
    text = st.one_of(_texts(words, 12), st.text(max_size=30))
    return st.lists(text, min_size=2, max_size=4)


@SETTINGS
@given(shots=_shots(_SHOT_WORDS))
def test_opening_is_the_first_tokens(shots: list[str]) -> None:
    for text in shots:
        analysis = Analysis(text)
        assert consistency._opening(analysis) == ref_opening(analysis), text


@SETTINGS
@given(shots=_shots(_SHOT_WORDS))
def test_style_drift_is_the_reference(shots: list[str]) -> None:
    meta = META["KP803"]
    request = _request("", shots)
    fast = _outcome(CHECKS["KP803"](_context(request), meta))
    assert fast == _outcome(ref_style_drift(_context(request), meta)), shots
    shared = _context(request)
    assert _outcome(ref_style_drift(shared, meta)) == fast
    assert _outcome(CHECKS["KP803"](shared, meta)) == fast


_SHOTS_ON = Linter(Config({"select": ["KP802", "KP803"]}))
_SHOTS_OFF = Linter(Config({"select": ["KP802", "KP803"]}), gates=False)


@SETTINGS
@given(shots=_shots(_SHOT_WORDS))
def test_multi_shot_gates_hide_no_diagnostic(shots: list[str]) -> None:
    request = _request("", shots)
    assert _outcome(_SHOTS_ON.lint(request)) == _outcome(_SHOTS_OFF.lint(request))


def test_style_gate_holds_every_medium_and_colour() -> None:
    gate = META["KP803"].when
    assert gate is not None
    categories = {
        key
        for phrase in LINTER.matcher.phrases("contradictions")
        for key in LINTER.matcher.keys_of_match(phrase)
        if key.startswith(tuple(prefix for prefix, _ in consistency._STYLE_GROUPS))
    }
    assert len(categories) >= 9
    assert categories <= gate.keys
