"""Configuration: ``[tool.kling-prompt]`` in ``pyproject.toml``, or a ``kling-prompt.toml``.

Keys follow ruff's names where they mean the same thing: ``select``, ``ignore``,
``extend-select``, ``per-file-ignores``. Unknown keys and unknown rule codes are reported as
KP005 diagnostics on the config file, never silently ignored. Parsed files are cached by size and
modification time, because importing the TOML parser costs more than a small lint.
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Mapping
from typing import Any

from kling_prompt.errors import ConfigError
from kling_prompt.linter.diagnostic import SEVERITIES

CONFIG_FILES = ("kling-prompt.toml", ".kling-prompt.toml", "pyproject.toml")
KNOWN_KEYS = {
    "select": "list of rule codes, code prefixes or names to enable (default: all rules)",
    "ignore": "list of rule codes, code prefixes or names to disable",
    "extend-select": "list of rules to enable on top of 'select'",
    "per-file-ignores": "mapping of glob pattern -> list of rules to disable in matching files",
    "severity": "mapping of rule code or name -> 'error', 'warning' or 'info'",
    "word-budget": "mapping of mode -> maximum words (KP401)",
    "min-words": "mapping of mode -> minimum words (KP402)",
    "default-endpoint": "endpoint id used for plain-text prompts",
    "default-mode": "mode used for plain-text prompts when no endpoint is given",
    "budget": "maximum estimated cost in USD of one request or run (KP114)",
    "exclude": "list of glob patterns of files to skip",
    "fail-on": "lowest severity that makes lint exit 1: 'error', 'warning' or 'info'",
    "show-info": "show info-level diagnostics (true/false)",
    "prices": "mapping of endpoint id -> price override (usd_per_second, date, ...)",
    "max-cost": "maximum estimated cost in USD of a run (run and resume)",
    "concurrency": "number of jobs sent at once by run",
    "retry-failed": "how many times run retries a job that failed on fal's side (default 0: no paid retry)",
    "out": "folder where run writes videos",
}
MODES = (
    "text-to-video",
    "image-to-video",
    "reference-to-video",
    "motion-control",
    "video-edit",
    "video-reference",
)


class ConfigIssue:
    """A problem in a config file that becomes a KP005 diagnostic."""

    __slots__ = ("line", "message", "path")

    def __init__(self, message: str, path: str | None, line: int | None) -> None:
        self.message = message
        self.path = path
        self.line = line

    def __repr__(self) -> str:
        return f"ConfigIssue({self.message!r}, {self.path!r}, {self.line})"


class Config:
    """Effective settings for a lint run (file settings overlaid with flags)."""

    def __init__(self, data: Mapping[str, Any] | None = None, *, path: str | None = None) -> None:
        data = dict(data or {})
        self.path = path
        self.root = os.path.dirname(path) if path else None
        self.issues: list[ConfigIssue] = []
        self._text: str | None = None
        for key in data:
            if key not in KNOWN_KEYS:
                self._issue(
                    f"unknown config key {key!r}; known keys: {', '.join(sorted(KNOWN_KEYS))}", key
                )
        self.select: list[str] | None = self._list(data, "select", None)
        self.ignore: list[str] = self._list(data, "ignore", []) or []
        self.extend_select: list[str] = self._list(data, "extend-select", []) or []
        self.per_file_ignores: dict[str, list[str]] = {}
        pfi = data.get("per-file-ignores", {})
        if not isinstance(pfi, Mapping):
            raise ConfigError(
                f"{path or 'config'}: 'per-file-ignores' must map glob patterns to lists of rules"
            )
        for pattern, codes in pfi.items():
            if isinstance(codes, str):
                codes = [codes]
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise ConfigError(
                    f"{path or 'config'}: per-file-ignores[{pattern!r}] must be a list of rule codes"
                )
            self.per_file_ignores[str(pattern)] = list(codes)
        severity = data.get("severity", {})
        if not isinstance(severity, Mapping):
            raise ConfigError(f"{path or 'config'}: 'severity' must map rule codes to a severity")
        self.severity: dict[str, str] = {}
        for code, level in severity.items():
            if level not in SEVERITIES:
                raise ConfigError(
                    f"{path or 'config'}: severity for {code!r} must be one of {', '.join(SEVERITIES)}, not {level!r}"
                )
            self.severity[str(code)] = str(level)
        self.word_budget = self._mode_map(data, "word-budget")
        self.min_words = self._mode_map(data, "min-words")
        self.default_endpoint: str | None = self._str(data, "default-endpoint")
        self.default_mode: str | None = self._str(data, "default-mode")
        if self.default_mode is not None and self.default_mode not in MODES:
            raise ConfigError(
                f"{path or 'config'}: default-mode must be one of {', '.join(MODES)}, not {self.default_mode!r}"
            )
        self.budget: float | None = self._number(data, "budget")
        self.max_cost: float | None = self._number(data, "max-cost")
        self.exclude: list[str] = self._list(data, "exclude", []) or []
        fail_on = data.get("fail-on", "error")
        if fail_on not in SEVERITIES:
            raise ConfigError(f"{path or 'config'}: fail-on must be one of {', '.join(SEVERITIES)}")
        self.fail_on: str = str(fail_on)
        self.show_info: bool = bool(data.get("show-info", False))
        prices = data.get("prices", {})
        if not isinstance(prices, Mapping):
            raise ConfigError(
                f"{path or 'config'}: 'prices' must map endpoint ids to price overrides"
            )
        self.prices: dict[str, Any] = dict(prices)
        concurrency = data.get("concurrency")
        if concurrency is not None and (not isinstance(concurrency, int) or concurrency < 1):
            raise ConfigError(f"{path or 'config'}: 'concurrency' must be a positive integer")
        self.concurrency: int | None = concurrency
        self.out: str | None = self._str(data, "out")

    # -- parsing helpers --------------------------------------------------------------------
    def _where(self) -> str:
        return self.path or "config"

    def _list(
        self, data: Mapping[str, Any], key: str, default: list[str] | None
    ) -> list[str] | None:
        if key not in data:
            return None if default is None else list(default)
        value = data[key]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self._where()}: {key!r} must be a list of strings")
        return list(value)

    def _str(self, data: Mapping[str, Any], key: str) -> str | None:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{self._where()}: {key!r} must be a string")
        return value

    def _number(self, data: Mapping[str, Any], key: str) -> float | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"{self._where()}: {key!r} must be a non-negative number (USD)")
        return float(value)

    def _mode_map(self, data: Mapping[str, Any], key: str) -> dict[str, int]:
        value = data.get(key, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self._where()}: {key!r} must map modes to numbers of words")
        out: dict[str, int] = {}
        for mode, n in value.items():
            if mode not in MODES:
                raise ConfigError(
                    f"{self._where()}: {key} has unknown mode {mode!r}; modes: {', '.join(MODES)}"
                )
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise ConfigError(f"{self._where()}: {key}.{mode} must be a non-negative integer")
            out[str(mode)] = n
        return out

    def _issue(self, message: str, needle: str) -> None:
        self.issues.append(ConfigIssue(message, self.path, self._line_of(needle)))

    def _line_of(self, needle: str) -> int | None:
        if self.path is None:
            return None
        if self._text is None:
            try:
                with open(self.path, encoding="utf-8") as fh:
                    self._text = fh.read()
            except OSError:
                return None
        for i, line in enumerate(self._text.splitlines(), 1):
            if needle in line:
                return i
        return None

    # -- selection --------------------------------------------------------------------------
    def check_codes(self, codes: Mapping[str, str]) -> None:
        """Report KP005 for selectors that match no rule (``codes`` maps code -> name)."""
        for key in ("select", "ignore", "extend-select"):
            for selector in self._selectors(key):
                if not matches_any(selector, codes):
                    self._issue(f"{key}: {selector!r} matches no rule", selector)
        for pattern, selectors in self.per_file_ignores.items():
            for selector in selectors:
                if not matches_any(selector, codes):
                    self._issue(
                        f"per-file-ignores[{pattern!r}]: {selector!r} matches no rule", selector
                    )
        for selector in self.severity:
            if not matches_any(selector, codes):
                self._issue(f"severity: {selector!r} matches no rule", selector)

    def _selectors(self, key: str) -> list[str]:
        if key == "select":
            return list(self.select or ())
        if key == "ignore":
            return list(self.ignore)
        return list(self.extend_select)

    def enabled(self, code: str, name: str, filename: str | None = None) -> bool:
        selected = self.select is None or any(selects(s, code, name) for s in self.select)
        selected = selected or any(selects(s, code, name) for s in self.extend_select)
        if not selected:
            return False
        if any(selects(s, code, name) for s in self.ignore):
            return False
        return not (filename and any(selects(s, code, name) for s in self.ignored_for(filename)))

    def ignored_for(self, filename: str) -> list[str]:
        out: list[str] = []
        if not self.per_file_ignores:
            return out
        path = filename
        if self.root and os.path.isabs(filename):
            try:
                path = os.path.relpath(filename, self.root)
            except ValueError:
                path = filename
        path = path.replace(os.sep, "/")
        for pattern, codes in self.per_file_ignores.items():
            if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(os.path.basename(path), pattern):
                out.extend(codes)
        return out

    def severity_for(self, code: str, name: str, default: str) -> str:
        for selector, level in self.severity.items():
            if selects(selector, code, name):
                return level
        return default

    def excluded(self, path: str) -> bool:
        norm = path.replace(os.sep, "/")
        return any(
            fnmatch.fnmatch(norm, p)
            or fnmatch.fnmatch(os.path.basename(norm), p)
            or f"/{p.strip('/')}/" in f"/{norm}/"
            for p in self.exclude
        )

    def overlay(self, **flags: Any) -> Config:
        """A copy with command-line flags applied over the file settings."""
        clone = Config.__new__(Config)
        clone.__dict__.update(self.__dict__)
        clone.issues = list(self.issues)
        for key, value in flags.items():
            if value is None:
                continue
            if not hasattr(clone, key):
                raise ConfigError(f"unknown setting {key!r}")
            setattr(clone, key, value)
        return clone


def selects(selector: str, code: str, name: str) -> bool:
    """Whether a selector (``ALL``, ``KP3``, ``KP301``, a rule name) selects a rule."""
    s = selector.strip()
    if s.upper() == "ALL":
        return True
    if s.upper().startswith("KP"):
        return code.startswith(s.upper())
    return s == name


def matches_any(selector: str, codes: Mapping[str, str]) -> bool:
    return any(selects(selector, code, name) for code, name in codes.items())


def find_config(start: str | os.PathLike[str] | None = None) -> str | None:
    """The nearest config file at or above ``start`` (a ``pyproject.toml`` counts only with our table)."""
    here = os.path.realpath(os.fspath(start) if start is not None else os.getcwd())
    if os.path.isfile(here):
        here = os.path.dirname(here)
    while True:
        for name in CONFIG_FILES:
            candidate = os.path.join(here, name)
            if not os.path.isfile(candidate):
                continue
            if name != "pyproject.toml":
                return candidate
            try:
                with open(candidate, encoding="utf-8") as fh:
                    text = fh.read()
            except (OSError, UnicodeDecodeError):
                continue
            if "[tool.kling-prompt" in text:
                return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def load_config(path: str | os.PathLike[str] | None = None, *, start: str | None = None) -> Config:
    """Load a config file (or discover one from ``start``); no file gives the defaults."""
    found = os.fspath(path) if path is not None else find_config(start)
    if found is None:
        return Config()
    if not os.path.isfile(found):
        raise ConfigError(f"{found}: config file not found; check the --config path")
    return Config(_read_table(found), path=found)


def _read_table(path: str | os.PathLike[str]) -> dict[str, Any]:
    from kling_prompt.linter.loader import cache_dir

    path = os.fspath(path)
    st = os.stat(path)
    key = f"{os.path.realpath(path)}:{st.st_mtime_ns}:{st.st_size}"
    cdir = cache_dir()
    cached = None
    if cdir is not None and os.environ.get("KLING_PROMPT_NO_CACHE") != "1":
        import hashlib

        cached = os.path.join(cdir, f"config-{hashlib.sha1(key.encode()).hexdigest()[:20]}.json")
        try:
            with open(cached, encoding="utf-8") as fh:
                data: dict[str, Any] = json.load(fh)
            return data
        except (OSError, ValueError):
            pass
    import tomllib

    try:
        with open(path, "rb") as fh:
            document = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}; fix the syntax or pass --config") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from exc
    if os.path.basename(path) == "pyproject.toml":
        table = document.get("tool", {}).get("kling-prompt", {})
    else:
        table = document
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.kling-prompt] must be a table")
    if cached is not None:
        try:
            os.makedirs(os.path.dirname(cached), exist_ok=True)
            tmp = f"{cached}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(table))
            os.replace(tmp, cached)
        except (OSError, TypeError, ValueError):
            pass
    return table
