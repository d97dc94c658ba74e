"""Structural rules written in Python (``kind: code`` in their rule file).

Each module registers its functions with :func:`kling_prompt.lint.rules.check`; importing this
package registers them all.
"""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
