"""The built wheel carries its templates and rules: install it elsewhere and use it.

An editable install finds ``templates/`` and ``rules/`` in the checkout, which would hide a
packaging mistake; this builds the wheel (offline, with the hatchling already installed), installs
it into a fresh virtual environment outside the source tree, and renders and lints there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, kling_prompt
from kling_prompt import Prompt, lint
from kling_prompt.linter import Linter
from kling_prompt.resources import rules_dir, templates_dir
request = Prompt.text_to_video().subject("a red fox").motion("trots across fresh snow").scene("a birch forest at dawn").render()
found = lint("Dancing energetically with spinning and jumping movements", mode="motion-control")
print(json.dumps({
    "package": kling_prompt.__file__,
    "templates": str(templates_dir()),
    "rules": str(rules_dir()),
    "prompt": request.arguments["prompt"],
    "codes": sorted({d.code for d in found}),
    "native": Linter().matcher.native,
}))
"""


@pytest.mark.slow
def test_wheel_renders_and_lints_outside_the_tree(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        cwd=tmp_path,
    )
    wheels = list(dist.glob("kling_prompt-*.whl"))
    assert len(wheels) == 1
    env_dir = tmp_path / "fresh"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheels[0])],
        check=True,
    )
    # Dependencies come from this test environment's site-packages; the package itself only from the wheel.
    deps = os.pathsep.join(site.getsitepackages())
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLING_PROMPT_")}
    env.update(PYTHONPATH=deps, KLING_PROMPT_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run(
        [str(python), "-c", SCRIPT],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    data = json.loads(out.stdout)
    installed = str(env_dir)
    assert data["package"].startswith(installed), data["package"]
    assert data["templates"].startswith(installed)
    assert data["rules"].startswith(installed)
    assert data["prompt"].startswith("A red fox")
    assert "KP301" in data["codes"]
    # The wheel carries the native scanner whenever it could be compiled here (an editable
    # install compiles it the same way), and the installed package uses it.
    assert data["native"] == (importlib.util.find_spec("kling_prompt._lexscan") is not None)
