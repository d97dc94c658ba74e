"""The command table that lets one command load only its own module."""

from __future__ import annotations

import argparse
import importlib
import importlib.util

from kling_prompt.cli import COMMAND_MODULES, COMMAND_OWNERS, build_parser


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def test_every_registered_command_has_its_owner_listed() -> None:
    for module_name in COMMAND_MODULES:
        if importlib.util.find_spec(f"kling_prompt.cli.{module_name}") is None:
            continue
        module = importlib.import_module(f"kling_prompt.cli.{module_name}")
        parser = argparse.ArgumentParser()
        module.register(parser.add_subparsers())
        for command in _commands(parser):
            assert COMMAND_OWNERS.get(command) == module_name, (command, module_name)


def test_one_command_builds_only_its_parser_and_help_builds_all() -> None:
    assert _commands(build_parser("lint")) == {"lint"}
    everything = _commands(build_parser(None))
    assert {"lint", "rule", "render", "endpoints", "new", "run"} <= everything
    assert everything <= set(COMMAND_OWNERS)
