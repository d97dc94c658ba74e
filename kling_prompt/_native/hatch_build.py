"""Compile the optional native lexicon scanner while hatchling builds kling_prompt.

Best effort: without a C compiler or the Python headers the build goes on without it, and
kling_prompt matches lexicons with its regular expression (the same results, slower). Set
``KLING_PROMPT_PURE_PYTHON=1`` to build without it.

An editable install puts the module next to the sources (``kling_prompt/_lexscan*.so``, ignored
by git); a wheel carries it and is tagged for the interpreter and platform it was built on.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

MODULE = "_lexscan"


def compile_command(source: Path, target: Path) -> list[str] | None:
    """The command that builds ``target`` from ``source``, or ``None`` when this interpreter
    has no Unix-style compiler settings or no headers."""
    linker = sysconfig.get_config_var("LDSHARED")
    include = sysconfig.get_paths().get("include")
    if not linker or not include or not (Path(include) / "Python.h").is_file():
        return None
    shared = sysconfig.get_config_var("CCSHARED") or ""
    return [
        *shlex.split(linker),
        *shlex.split(shared),
        "-O2",
        "-DNDEBUG",  # as CPython builds its own modules: the headers' assertions off
        f"-I{include}",
        str(source),
        "-o",
        str(target),
    ]


class NativeScannerHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        name = f"{MODULE}{suffix}"
        if version == "editable":
            target = root / "kling_prompt" / name
            target.unlink(missing_ok=True)  # never keep a module built from older sources
        else:
            target = root / "build" / "native" / name
            target.parent.mkdir(parents=True, exist_ok=True)
        if os.environ.get("KLING_PROMPT_PURE_PYTHON"):
            return
        command = compile_command(root / "kling_prompt" / "_native" / "lexscan.c", target)
        if command is None:
            self.app.display_warning(
                "kling_prompt: no C compiler settings or Python headers; "
                "building without the native lexicon scanner"
            )
            return
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.SubprocessError) as exc:
            self.app.display_warning(f"kling_prompt: native lexicon scanner not built: {exc}")
            return
        if done.returncode != 0:
            self.app.display_warning(
                "kling_prompt: native lexicon scanner not built (the pure-Python scanner will "
                f"be used): {done.stderr.strip()[-2000:]}"
            )
            target.unlink(missing_ok=True)
            return
        if version != "editable":
            build_data["force_include"][str(target)] = f"kling_prompt/{name}"
            build_data["pure_python"] = False
            build_data["infer_tag"] = True
