"""The craft data files under ``templates/presets/``: style presets and stock phrases.

Both files are read once per templates folder (``KLING_PROMPT_TEMPLATES_DIR`` can point at
another one) and checked for shape, so a typo in the data is a clear error naming the file.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kling_prompt.errors import ConfigError, SpecError
from kling_prompt.resources import templates_dir

__all__ = [
    "Preset",
    "categories",
    "orientation_for",
    "phrase",
    "phrases",
    "presets",
]


@dataclass(frozen=True)
class Preset:
    """A named style preset: the category it sets, its phrases and what it contradicts."""

    name: str
    category: str
    phrases: tuple[str, ...]
    conflicts: tuple[str, ...] = ()


def _load(name: str) -> dict[str, Any]:
    import yaml

    path = templates_dir() / "presets" / name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: craft data file missing; reinstall kling-prompt") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    data["_path"] = str(path)
    return data


@functools.lru_cache(maxsize=4)
def _styles(directory: str) -> tuple[dict[str, dict[str, Any]], dict[str, Preset]]:
    del directory  # the cache key: one entry per templates folder
    data = _load("styles.yaml")
    path = data["_path"]
    cats = data.get("categories")
    raw = data.get("presets")
    if not isinstance(cats, dict) or not isinstance(raw, dict):
        raise ConfigError(f"{path}: needs 'categories' and 'presets' mappings")
    out: dict[str, Preset] = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or entry.get("category") not in cats:
            raise ConfigError(f"{path}: preset {name!r} needs a category from 'categories'")
        phrases = entry.get("phrases")
        if not isinstance(phrases, list) or not phrases:
            raise ConfigError(f"{path}: preset {name!r} needs a list of phrases")
        out[str(name)] = Preset(
            str(name),
            str(entry["category"]),
            tuple(str(p) for p in phrases),
            tuple(str(c) for c in entry.get("conflicts") or ()),
        )
    for preset in out.values():
        for other in preset.conflicts:
            if other not in cats and other not in out:
                raise ConfigError(
                    f"{path}: preset {preset.name!r} conflicts with {other!r}, which is neither "
                    "a category nor a preset"
                )
    return {str(k): dict(v or {}) for k, v in cats.items()}, out


@functools.lru_cache(maxsize=4)
def _phrases(directory: str) -> dict[str, Any]:
    del directory
    return _load("phrases.yaml")


def presets() -> dict[str, Preset]:
    """Every style preset by name."""
    return _styles(str(templates_dir()))[1]


def categories() -> dict[str, dict[str, Any]]:
    """The preset categories (``medium``, ``colour``...) with ``exclusive`` and ``about``."""
    return _styles(str(templates_dir()))[0]


def phrases(group: str) -> dict[str, str]:
    """A group of stock phrases (``consistency``, ``physics``, ``unwanted_motion``...)."""
    data = _phrases(str(templates_dir()))
    value = data.get(group)
    if not isinstance(value, dict):
        raise ConfigError(f"{data['_path']}: missing the {group!r} mapping")
    return {str(k): str(v) for k, v in value.items()}


def phrase(key: str) -> str:
    """A single top-level phrase of ``phrases.yaml`` (``minimal_subject``)."""
    data = _phrases(str(templates_dir()))
    value = data.get(key)
    if not isinstance(value, str):
        raise ConfigError(f"{data['_path']}: missing the {key!r} phrase")
    return value


def pick(group: str, keys: tuple[str, ...], *, call: str) -> tuple[str, ...]:
    """The phrases of ``keys`` in ``group`` (all when empty); unknown keys are a SpecError."""
    table = phrases(group)
    if not keys:
        return tuple(table.values())
    unknown = [k for k in keys if k not in table]
    if unknown:
        raise SpecError(f"{call}: unknown key {unknown[0]!r}; choose from {', '.join(table)}")
    return tuple(table[k] for k in keys)


def orientation_for(use: str) -> str:
    """The ``character_orientation`` an intended use needs (dance -> video, portrait -> image)."""
    table = phrases("intended_use")
    try:
        return table[use]
    except KeyError:
        raise SpecError(
            f"intended_use: unknown use {use!r}; choose from {', '.join(table)}"
        ) from None


def data_path(name: str) -> Path:
    """Where a craft data file lives (for messages and the CLI)."""
    return templates_dir() / "presets" / name


def symptoms() -> dict[str, dict[str, Any]]:
    """The troubleshooting symptoms: ``summary`` and the ``advice`` no automatic change gives."""
    data = _phrases(str(templates_dir()))
    value = data.get("symptoms")
    if not isinstance(value, dict):
        raise ConfigError(f"{data['_path']}: missing the 'symptoms' mapping")
    return {str(k): dict(v) for k, v in value.items()}
