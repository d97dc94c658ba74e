"""Style presets: named bundles of style phrases that refuse to contradict each other.

The presets live in ``templates/presets/styles.yaml``. Two presets clash when they set the same
exclusive category (``anime`` and ``photorealistic`` are both a medium) or when one lists the
other's category or name under ``conflicts``. The whole style, presets and the author's own
words together, must also pass the KP801 contradiction rule.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from kling_prompt.craft.data import Preset, categories, presets

if TYPE_CHECKING:
    from kling_prompt.spec import Style

__all__ = ["clash", "resolve", "style_problems", "style_text"]


def resolve(names: Iterable[str]) -> list[Preset]:
    """The presets called ``names``; an unknown name raises ``ValueError`` with a suggestion."""
    table = presets()
    out: list[Preset] = []
    for name in names:
        preset = table.get(name)
        if preset is None:
            near = difflib.get_close_matches(name, table, n=1)
            hint = f"did you mean {near[0]!r}? " if near else ""
            raise ValueError(
                f"presets: unknown style preset {name!r}; {hint}known presets: {', '.join(table)}"
            )
        out.append(preset)
    return out


def clash(a: Preset, b: Preset) -> str | None:
    """Why ``a`` and ``b`` cannot be combined, or ``None`` when they can."""
    if a.name == b.name:
        return None
    if a.category == b.category and categories()[a.category].get("exclusive", True):
        return f"both set the {a.category}"
    for x, y in ((a, b), (b, a)):
        if y.name in x.conflicts or y.category in x.conflicts:
            return f"{x.name!r} does not combine with {y.category} presets"
    return None


def style_text(style: Style) -> str:
    """The style as the model reads it: the author's words, then the presets' phrases."""
    parts: list[str] = [p for p in (style.look, style.medium, style.lens) if p]
    parts += list(style.film)
    for preset in resolve(style.presets):
        parts += preset.phrases
    return ", ".join(parts)


def style_problems(style: Style) -> list[str]:
    """Why a style with presets is refused: unknown or clashing presets, or a KP801 clash."""
    try:
        chosen = resolve(style.presets)
    except ValueError as exc:
        return [str(exc)]
    out = list(_pair_problems(chosen))
    if out:
        return out
    from kling_prompt.craft.checks import lint_rule

    for diagnostic in lint_rule(style_text(style), "KP801", mode="text-to-video"):
        names = ", ".join(repr(p.name) for p in chosen)
        out.append(
            f"presets: the style with preset(s) {names} is contradictory: "
            f"{diagnostic.message} [KP801]"
        )
    return out


def _pair_problems(chosen: Sequence[Preset]) -> Iterable[str]:
    for i, a in enumerate(chosen):
        for b in chosen[i + 1 :]:
            reason = clash(a, b)
            if reason:
                yield (
                    f"presets: {a.name!r} ({a.category}) contradicts {b.name!r} ({b.category}): "
                    f"{reason}; keep one of them"
                )
