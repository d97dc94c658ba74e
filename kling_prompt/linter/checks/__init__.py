"""Structural rules written in Python (``kind: code`` in their rule file).

Each module registers its functions with :func:`kling_prompt.linter.rules.check`; importing this
package registers them all.
"""

from __future__ import annotations

# Listed rather than discovered: pkgutil's discovery costs more at start-up than importing them.
from . import (  # noqa: F401
    audio,
    camera,
    consistency,
    failure,
    motion,
    negative,
    payload,
    references,
    structure,
)
