"""Prompt craft: the guides' techniques as library features.

- Style presets (``templates/presets/styles.yaml``): :func:`presets`, applied with
  ``Prompt.preset("anime")``; contradicting presets are refused (also checked with KP801).
- Motion-control helpers live on the builder (``.identity()``, ``.environment()``,
  ``.style()``, ``.consistency()``, ``.intended_use()``, ``.reference_duration()``).
- Edit language (``.replace()``, ``.modify()``, ``.preserve()``) and unwanted-motion control
  (``.still_background()``, ``.static_environment()``) too.
- :func:`staged`: the iterative workflow as stage requests; :func:`write_stages` writes them.
- :func:`troubleshoot`: a symptom's fixes as :class:`Suggestion` objects that change a request.

Imports are lazy, so ``import kling_prompt.craft`` costs nothing until a name is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Preset": "kling_prompt.craft.data",
    "presets": "kling_prompt.craft.data",
    "categories": "kling_prompt.craft.data",
    "STAGES": "kling_prompt.craft.staging",
    "staged": "kling_prompt.craft.staging",
    "stage_specs": "kling_prompt.craft.staging",
    "write_stages": "kling_prompt.craft.staging",
    "SYMPTOMS": "kling_prompt.craft.troubleshooting",
    "Suggestion": "kling_prompt.craft.troubleshooting",
    "apply_all": "kling_prompt.craft.troubleshooting",
    "troubleshoot": "kling_prompt.craft.troubleshooting",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from kling_prompt.craft.data import Preset as Preset
    from kling_prompt.craft.data import categories as categories
    from kling_prompt.craft.data import presets as presets
    from kling_prompt.craft.staging import STAGES as STAGES
    from kling_prompt.craft.staging import stage_specs as stage_specs
    from kling_prompt.craft.staging import staged as staged
    from kling_prompt.craft.staging import write_stages as write_stages
    from kling_prompt.craft.troubleshooting import SYMPTOMS as SYMPTOMS
    from kling_prompt.craft.troubleshooting import Suggestion as Suggestion
    from kling_prompt.craft.troubleshooting import apply_all as apply_all
    from kling_prompt.craft.troubleshooting import troubleshoot as troubleshoot


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kling_prompt.craft' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
