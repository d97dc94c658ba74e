"""Load the rule files under ``rules/``, compile them once, and cache the result.

Parsing some sixty YAML files costs more than the whole lint of a small file, so the compiled
form (rule headers plus the lexicon trie) is written as JSON to a cache keyed by the files'
sizes and modification times. A cache miss parses with PyYAML (the C loader when available);
a hit reads one JSON file. Docs and test cases are not part of the compiled form: the ``rule``
command and the test suite read them with :func:`load_documents`.
"""

from __future__ import annotations

import marshal
import os
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

from kling_prompt.errors import ConfigError
from kling_prompt.linter.diagnostic import SEVERITIES

RULE_KEYS = {
    "code",
    "name",
    "severity",
    "kind",
    "scope",
    "message",
    "source",
    "options",
    "match",
    "fix",
    "docs",
    "tests",
    "when",
    "raises_to",
}
RUNTIME_KEYS = (
    "code",
    "name",
    "severity",
    "kind",
    "scope",
    "message",
    "source",
    "options",
    "match",
    "fix",
    "when",
    "raises_to",
)
KINDS = {
    "code",
    "engine",
    "existence",
    "substitution",
    "occurrence",
    "conflict",
    "metric",
    "pattern",
}
# The conditions a ``when:`` gate may hold (see ``rules.Gate``).
GATE_FIELDS = frozenset(
    ("keys", "text", "arguments", "endpoint", "check", "unless", "options", "longer", "any")
)
_FORMAT = 11


def cache_dir() -> str | None:
    """Where compiled rules and parsed config files are cached."""
    override = os.environ.get("KLING_PROMPT_CACHE_DIR")
    if override:
        return override
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kling-prompt")


def rule_files(dirs: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Every ``*.yaml`` file under the given folders, sorted (string paths: no pathlib at start-up)."""
    files: list[str] = []
    for d in dirs:
        found: list[str] = []
        for root, subdirs, names in os.walk(d):
            subdirs.sort()
            found.extend(os.path.join(root, n) for n in names if n.endswith(".yaml"))
        files.extend(sorted(found))
    return files


def _hasher(data: bytes) -> Any:
    """A hash object for cache keys; BLAKE2 without importing hashlib (and OpenSSL) when it can."""
    try:
        from _blake2 import blake2b
    except ImportError:  # another interpreter
        import hashlib

        return hashlib.sha1(data)
    return blake2b(data, digest_size=10)


def _signature(files: list[str]) -> str:
    from kling_prompt import __version__

    h = _hasher(f"{_FORMAT}:{__version__}:{sys.version}".encode())
    for f in files:
        st = os.stat(f)
        h.update(f"{f}:{st.st_mtime_ns}:{st.st_size};".encode())
    digest: str = h.hexdigest()[:20]
    return digest


def load_runtime(dirs: Sequence[str | os.PathLike[str]] | None = None) -> dict[str, Any]:
    """The compiled rules and lexicons, from the cache when it is current."""
    if dirs is None:
        from kling_prompt.resources import rules_location

        dirs = [rules_location()]
    files = rule_files(dirs)
    key = _signature(files)
    cdir = cache_dir()
    # marshal, not JSON: the lexicon's regex program is a long list of ints that json parses
    # several times slower. The key includes the interpreter version, which marshal needs.
    target = os.path.join(cdir, f"rules-{key}.marshal") if cdir is not None else None
    if target is not None and os.environ.get("KLING_PROMPT_NO_CACHE") != "1":
        try:
            with open(target, "rb") as fh:
                data: dict[str, Any] = marshal.loads(fh.read())
            if isinstance(data, dict) and data.get("format") == _FORMAT:
                return data
        except (OSError, ValueError, EOFError, TypeError):
            pass
    from pathlib import Path

    data = compile_rules([Path(f) for f in files])
    if target is not None and os.environ.get("KLING_PROMPT_NO_CACHE") != "1":
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            tmp = f"{target}.{os.getpid()}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(marshal.dumps(data))
            os.replace(tmp, target)
        except (OSError, ValueError):  # ValueError: a value marshal cannot write
            pass
    return data


def _yaml_load(path: Path) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.load(fh, Loader=loader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc


def load_documents(
    dirs: list[Path] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Every rule document (with docs and tests) and every lexicon document, validated."""
    if dirs is None:
        from kling_prompt.resources import rules_dir

        dirs = [rules_dir()]
    from pathlib import Path

    return load_files([Path(f) for f in rule_files(dirs)])


def load_files(files: list[Path]) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Parse and validate the given rule and lexicon files."""
    rules: list[dict[str, Any]] = []
    lexicons: dict[str, dict[str, Any]] = {}
    for path in files:
        doc = _yaml_load(path)
        if not isinstance(doc, dict):
            raise ConfigError(f"{path}: expected a mapping with 'code' (a rule) or 'lexicon'")
        if "lexicon" in doc:
            name = str(doc["lexicon"])
            if name in lexicons:
                raise ConfigError(f"{path}: lexicon {name!r} is defined twice")
            if not isinstance(doc.get("categories"), dict):
                raise ConfigError(f"{path}: lexicon {name!r} needs a 'categories' mapping")
            if not doc.get("source"):
                raise ConfigError(
                    f"{path}: lexicon {name!r} must say where its words come from ('source')"
                )
            doc["_path"] = str(path)
            lexicons[name] = doc
        elif "code" in doc:
            _validate_rule(doc, path)
            doc["_path"] = str(path)
            rules.append(doc)
        else:
            raise ConfigError(f"{path}: expected a mapping with 'code' (a rule) or 'lexicon'")
    codes: dict[str, str] = {}
    names: dict[str, str] = {}
    for doc in rules:
        if doc["code"] in codes:
            raise ConfigError(
                f"{doc['_path']}: code {doc['code']} is also used by {codes[doc['code']]}"
            )
        if doc["name"] in names:
            raise ConfigError(
                f"{doc['_path']}: name {doc['name']} is also used by {names[doc['name']]}"
            )
        codes[doc["code"]] = doc["_path"]
        names[doc["name"]] = doc["_path"]
        match = doc.get("match") or {}
        for key in [
            *(match.get("lexicons") or ()),
            *(match.get("unless") or ()),
            *(match.get("transitions") or ()),
        ]:
            if str(key).split(".", 1)[0] not in lexicons and not str(key).startswith("rule-"):
                raise ConfigError(f"{doc['_path']}: unknown lexicon {key!r}")
        for pair in match.get("pairs") or ():
            for key in pair:
                if str(key).split(".", 1)[0] not in lexicons:
                    raise ConfigError(f"{doc['_path']}: unknown lexicon {key!r} in pairs")
    rules.sort(key=lambda d: d["code"])
    return rules, lexicons


def _validate_rule(doc: dict[str, Any], path: Path) -> None:
    unknown = set(doc) - RULE_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {sorted(unknown)}; allowed: {sorted(RULE_KEYS)}")
    for key in ("code", "name", "severity", "message", "source"):
        if not doc.get(key):
            raise ConfigError(f"{path}: rule needs {key!r}")
    if doc["severity"] not in SEVERITIES:
        raise ConfigError(f"{path}: severity must be one of {SEVERITIES}, not {doc['severity']!r}")
    raised = doc.get("raises_to")
    if raised is not None and (
        raised not in SEVERITIES or SEVERITIES.index(raised) <= SEVERITIES.index(doc["severity"])
    ):
        raise ConfigError(
            f"{path}: raises_to must be a severity above {doc['severity']!r}, not {raised!r}"
        )
    kind = doc.get("kind", "code")
    if kind not in KINDS:
        raise ConfigError(f"{path}: kind must be one of {sorted(KINDS)}, not {kind!r}")
    if doc.get("when") is not None:
        _validate_gate(doc["when"], path, "when")


def _validate_gate(when: Any, path: Path, where: str) -> None:
    """A ``when:`` gate: a mapping of known conditions, lists where lists belong."""
    if not isinstance(when, dict):
        raise ConfigError(f"{path}: {where} must be a mapping of conditions, not {when!r}")
    unknown = set(when) - GATE_FIELDS
    if unknown:
        raise ConfigError(
            f"{path}: unknown condition(s) {sorted(unknown)} in {where}; "
            f"allowed: {sorted(GATE_FIELDS)}"
        )
    for key in ("keys", "text", "arguments", "check", "unless", "options", "any"):
        value = when.get(key)
        if value is not None and not isinstance(value, list):
            raise ConfigError(f"{path}: {where}.{key} must be a list, not {value!r}")
    longer = when.get("longer")
    if longer is not None and not isinstance(longer, str):
        raise ConfigError(
            f"{path}: {where}.longer must be the name of a length bound, not {longer!r}"
        )
    for i, alternative in enumerate(when.get("any") or ()):
        _validate_gate(alternative, path, f"{where}.any[{i}]")


def compile_rules(files: list[Path]) -> dict[str, Any]:
    from kling_prompt.linter.lexicon import compile_lexicons
    from kling_prompt.linter.rules import inline_lexicon_name

    rules, lexicons = load_files(files)
    sources: dict[str, dict[str, Any]] = {
        name: {"categories": doc["categories"]} for name, doc in lexicons.items()
    }
    for doc in rules:
        phrases = (doc.get("match") or {}).get("phrases")
        if phrases:
            entries: Any = phrases
            if isinstance(phrases, dict):
                entries = phrases
            sources[inline_lexicon_name(doc["code"])] = {"categories": {"phrases": entries}}
    return {
        "format": _FORMAT,
        "rules": [{k: doc[k] for k in RUNTIME_KEYS if k in doc} for doc in rules],
        "lexicon": compile_lexicons(sources),
    }
