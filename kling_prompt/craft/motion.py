"""Motion-control helpers: orientation by intended use and the reference-video duration cap.

The cap comes from the catalog (``capabilities.motion_control.reference_seconds``): 3-10 s with
``image`` orientation and 3-30 s with ``video`` on the current endpoints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kling_prompt.errors import SpecError

__all__ = ["reference_limits", "reference_problem"]


def reference_limits(
    *, family: str | None = None, tier: str | None = None, endpoint: str | None = None
) -> tuple[str, dict[str, tuple[float, float]]]:
    """The motion-control endpoint a spec would use and its reference range per orientation."""
    from kling_prompt import catalog

    if endpoint is not None:
        info = catalog.get(endpoint)
    else:
        info = catalog.route(mode="motion-control", family=family, tier=tier).info
    limits = (info.capabilities.motion_control or {}).get("reference_seconds") or {}
    if not limits:
        raise SpecError(f"endpoint: {info.id} is not a motion-control endpoint; choose one")
    return info.id, {k: (float(v[0]), float(v[1])) for k, v in limits.items()}


def reference_problem(
    seconds: float,
    orientation: str,
    limits: Mapping[str, Sequence[float]],
    endpoint: str,
) -> str | None:
    """Why a reference video of ``seconds`` is refused, or ``None`` when it fits."""
    low, high = limits[orientation]
    if low <= seconds <= high:
        return None
    fix = (
        f"trim the reference video to at most {high:g} s"
        if seconds > high
        else f"use a reference video of at least {low:g} s"
    )
    for other, (other_low, other_high) in limits.items():
        if other != orientation and other_low <= seconds <= other_high:
            fix += (
                f", or use {other!r} orientation ({other_low:g}-{other_high:g} s; "
                f"intended_use {_uses(other)})"
            )
    return (
        f"reference_duration: a {seconds:g} s reference video is outside the {low:g}-{high:g} s "
        f"that {endpoint} accepts with {orientation!r} orientation (cap {high:g} s); {fix}"
    )


def _uses(orientation: str) -> str:
    from kling_prompt.craft.data import phrases

    return " or ".join(repr(u) for u, o in phrases("intended_use").items() if o == orientation)
