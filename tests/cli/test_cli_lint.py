"""``kling-prompt lint``: inputs, selection, config, exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import Runner

pytestmark = pytest.mark.usefixtures("test_rules")


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def codes(out: str) -> list[str]:
    return [item["code"] for item in json.loads(out)]


def test_clean_file_exits_zero(cli: Runner, tmp_path: Path) -> None:
    path = write(tmp_path, "ok.txt", "A red fox trots across fresh snow.\n")
    result = cli("lint", "--output-format", "concise", path)
    assert result.code == 0
    assert "All checks passed!" in result.out


def test_error_exits_one_and_warning_does_not(cli: Runner, tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.txt", "A forbidden door.\n")
    warn = write(tmp_path, "warn.txt", "teh fox\n")
    assert cli("lint", bad).code == 1
    assert cli("lint", warn).code == 0
    assert cli("lint", "--fail-on", "warning", warn).code == 1
    assert cli("lint", "--exit-zero", bad).code == 0


def test_concise_line_shape(cli: Runner, tmp_path: Path) -> None:
    path = write(tmp_path, "p.txt", "A cat\nthen teh dog\n")
    result = cli("lint", "--output-format", "concise", path)
    assert f"{path}:2:6: KP990 [warning] 'teh' is a typo; write 'the'." in result.out.splitlines()


def test_info_hidden_unless_asked(cli: Runner, tmp_path: Path) -> None:
    path = write(tmp_path, "p.txt", "maybe a fox\n")
    assert codes(cli("lint", "--output-format", "json", path).out) == []
    assert codes(cli("lint", "--output-format", "json", "--show-info", path).out) == ["KP991"]
    write(tmp_path, "pyproject.toml", "[tool.kling-prompt]\nshow-info = true\n")
    assert codes(cli("lint", "--output-format", "json", path).out) == ["KP991"]


def test_parse_error_is_reported_and_the_run_goes_on(cli: Runner, tmp_path: Path) -> None:
    write(tmp_path, "a/broken.json", '{"arguments": {"prompt": "x",}}')
    write(tmp_path, "a/fine.txt", "A forbidden lake.\n")
    write(tmp_path, "a/skip.md", "forbidden, but not a prompt file\n")
    result = cli("lint", "--output-format", "json", str(tmp_path / "a"))
    items = json.loads(result.out)
    assert [(Path(i["filename"]).name, i["code"]) for i in items] == [
        ("broken.json", "KP001"),
        ("fine.txt", "KP992"),
    ]
    assert items[0]["location"] == {"row": 1, "column": 30}
    assert result.code == 1


def test_json_payload_and_jsonl_records(cli: Runner, tmp_path: Path) -> None:
    payload = write(
        tmp_path,
        "job.json",
        json.dumps(
            {
                "endpoint": "fal-ai/kling-video/v2.6/pro/text-to-video",
                "arguments": {"prompt": "A forbidden fox"},
            },
            indent=2,
        ),
    )
    dataset = write(
        tmp_path,
        "set.jsonl",
        '{"id": "one", "mode": "text-to-video", "arguments": {"prompt": "fine"}}\n'
        '{"id": "two", "mode": "text-to-video", "arguments": {"prompt": "teh forbidden"}}\n',
    )
    items = json.loads(cli("lint", "--output-format", "json", payload, dataset).out)
    found = [
        (Path(i["filename"]).name, i["record"], i["code"], i["location"]["row"]) for i in items
    ]
    assert found == [
        ("job.json", None, "KP992", 4),
        ("set.jsonl", "two", "KP990", 2),
        ("set.jsonl", "two", "KP992", 2),
    ]


def test_stdin_text_and_named_kind(cli: Runner) -> None:
    result = cli("lint", "--output-format", "concise", "-", stdin="teh fox\n")
    assert result.out.startswith("-:1:1: KP990")
    payload = '{"arguments": {"prompt": "a forbidden fox"}}'
    result = cli(
        "lint", "--output-format", "concise", "--stdin-filename", "jobs/x.json", "-", stdin=payload
    )
    assert result.out.startswith("jobs/x.json:1:29: KP992")
    assert result.code == 1


def test_select_ignore_extend_select_flags(cli: Runner, tmp_path: Path) -> None:
    path = write(tmp_path, "p.txt", "teh forbidden huge maybe\n")

    def run(*flags):
        return codes(cli("lint", "--output-format", "json", "--show-info", *flags, path).out)

    assert run() == ["KP990", "KP992", "KP993", "KP991"]
    assert run("--select", "KP990,test-forbidden") == ["KP990", "KP992"]
    assert run("--ignore", "KP99") == []
    assert run("--select", "KP990", "--extend-select", "KP993") == ["KP990", "KP993"]


def test_config_select_ignore_per_file_and_severity(cli: Runner, tmp_path: Path) -> None:
    write(
        tmp_path,
        "pyproject.toml",
        '[tool.kling-prompt]\nignore = ["KP993"]\nseverity = {test-typo = "error"}\n'
        '[tool.kling-prompt.per-file-ignores]\n"drafts/*" = ["KP992"]\n',
    )
    main = write(tmp_path, "main.txt", "teh forbidden huge\n")
    draft = write(tmp_path, "drafts/d.txt", "teh forbidden huge\n")
    items = json.loads(cli("lint", "--output-format", "json", main, draft).out)
    found = [(Path(i["filename"]).name, i["code"], i["severity"]) for i in items]
    assert found == [
        ("main.txt", "KP990", "error"),
        ("main.txt", "KP992", "error"),
        ("d.txt", "KP990", "error"),
    ]


def test_config_unknown_code_is_kp005(cli: Runner, tmp_path: Path) -> None:
    config = write(tmp_path, "kling-prompt.toml", 'ignore = ["KP999"]\n')
    path = write(tmp_path, "p.txt", "fine\n")
    result = cli("lint", "--output-format", "concise", "--config", config, path)
    assert f"{config}:1:1: KP005 [error]" in result.out
    assert result.code == 1


def test_statistics(cli: Runner, tmp_path: Path) -> None:
    path = write(tmp_path, "p.txt", "teh adn forbidden\n")
    result = cli("lint", "--statistics", path)
    assert result.out.splitlines() == ["2\tKP990\t[*] test-typo", "1\tKP992\ttest-forbidden"]
    data = json.loads(cli("lint", "--statistics", "--output-format", "json", path).out)
    assert data[0] == {"code": "KP990", "name": "test-typo", "count": 2, "fixable": True}


def test_jobs_give_the_same_results(cli: Runner, tmp_path: Path) -> None:
    for i in range(12):
        write(tmp_path, f"p{i:02}.txt", "teh forbidden\n" if i % 3 else "fine\n")
    serial = cli("lint", "--output-format", "json", "--jobs", "1", str(tmp_path)).out
    parallel = cli("lint", "--output-format", "json", "--jobs", "3", str(tmp_path)).out
    assert json.loads(serial) == json.loads(parallel)
    assert len(json.loads(serial)) == 16


def test_quiet_and_colour(cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "p.txt", "teh\n")
    assert "Found" not in cli("lint", "-q", "--output-format", "full", path).out
    assert "\x1b[" in cli("lint", "--output-format", "full", "--color", "always", path).out
    assert "\x1b[" not in cli("lint", "--output-format", "full", path).out
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" in cli("lint", "--output-format", "full", path).out
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in cli("lint", "--output-format", "full", path).out


def test_output_format_from_environment(
    cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "p.txt", "teh\n")
    monkeypatch.setenv("KLING_PROMPT_OUTPUT_FORMAT", "json")
    assert codes(cli("lint", path).out) == ["KP990"]
    monkeypatch.setenv("KLING_PROMPT_OUTPUT_FORMAT", "xml")
    result = cli("lint", path)
    assert result.code == 2
    assert "KLING_PROMPT_OUTPUT_FORMAT" in result.err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["lint", "missing.txt"], "missing.txt: no such file or directory"),
        (["lint", "--select", "KP999", "p.txt"], "--select 'KP999' matches no rule"),
        (["lint", "--ignore", "no-such-rule", "p.txt"], "--ignore 'no-such-rule' matches no rule"),
        (["lint", "--output-format", "xml", "p.txt"], "--output-format"),
        (["lint", "--no-such-flag", "p.txt"], "unrecognized arguments: --no-such-flag"),
        (["lint", "--mode", "dance", "p.txt"], "--mode 'dance' is not a mode"),
        (["lint", "--config", "nope.toml", "p.txt"], "nope.toml: config file not found"),
        (["lint", "--config", "broken.toml", "p.txt"], "broken.toml: invalid TOML"),
        (["lint", "--jobs", "-1", "p.txt"], "--jobs must be"),
        (["lint", "--unsafe-fixes", "p.txt"], "--unsafe-fixes applies only with --fix"),
    ],
)
def test_usage_errors_are_one_line(
    cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], needle: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "p.txt", "fine\n")
    write(tmp_path, "broken.toml", "select = [\n")
    result = cli(*argv)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert needle in lines[0]
    assert "Traceback" not in result.err


def test_unreadable_file_is_one_line(cli: Runner, tmp_path: Path) -> None:
    import os

    path = write(tmp_path, "locked.txt", "fine\n")
    os.chmod(path, 0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user that reads any file")
        result = cli("lint", path)
    finally:
        os.chmod(path, 0o644)
    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "permission denied" in result.err


def test_subprocess_missing_file_has_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kling_prompt", "lint", "does-not-exist.txt"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 2
    assert (
        proc.stderr
        == "kling-prompt: error: does-not-exist.txt: no such file or directory; check the path\n"
    )
