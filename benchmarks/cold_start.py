"""Cold start and folder throughput of ``kling-prompt lint``, measured against ``python -c pass``.

Run: ``.venv/bin/python benchmarks/cold_start.py [--repeat N] [--files N]``. Prints best-of-N wall
times and ratios measured in one run (targets: one small file within 5x of an empty interpreter;
a 1,000-file folder under 1 s on one core). Nothing is asserted: timings belong here, not in tests.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = [
    "a",
    "red",
    "fox",
    "trots",
    "across",
    "fresh",
    "snow",
    "while",
    "the",
    "camera",
    "tracks",
    "low",
    "and",
    "slow",
    "at",
    "dusk",
]


def best(argv: list[str], repeat: int, env: dict[str, str], cwd: str) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            argv,
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kp-bench-"))
    try:
        env = {**os.environ, "KLING_PROMPT_CACHE_DIR": str(work / "cache")}
        env.pop("KLING_PROMPT_RULES_DIR", None)
        small = work / "small.txt"
        small.write_text(
            "A red fox trots across fresh snow, the camera tracking low at dusk.\n",
            encoding="utf-8",
        )
        folder = work / "prompts"
        folder.mkdir()
        for i in range(args.files):
            words = [WORDS[(i + k) % len(WORDS)] for k in range(20 + i % 40)]
            (folder / f"p{i:04}.txt").write_text(
                " ".join(words).capitalize() + ".\n", encoding="utf-8"
            )
        lint = [
            sys.executable,
            "-m",
            "kling_prompt",
            "lint",
            "--exit-zero",
            "--output-format",
            "concise",
        ]
        subprocess.run(
            [*lint, str(small)], env=env, cwd=work, capture_output=True, check=False
        )  # warm the cache
        empty = best([sys.executable, "-c", "pass"], args.repeat, env, str(work))
        one = best([*lint, str(small)], args.repeat, env, str(work))
        print(f"python -c pass:                 {empty * 1000:7.1f} ms")
        print(
            f"kling-prompt lint small.txt:    {one * 1000:7.1f} ms  ({one / empty:.1f}x python -c pass; target <= 5x)"
        )
        runs = max(1, args.repeat // 3)
        serial = best([*lint, "--jobs", "1", str(folder)], runs, env, str(work))
        print(f"lint {args.files} files, --jobs 1:   {serial * 1000:7.1f} ms  (target < 1000 ms)")
        cpus = os.cpu_count() or 1
        parallel = best([*lint, str(folder)], runs, env, str(work))
        print(
            f"lint {args.files} files, default jobs ({min(cpus, args.files // 64)}): {parallel * 1000:7.1f} ms"
        )
        explicit = best([*lint, "--jobs", str(cpus), str(folder)], runs, env, str(work))
        print(f"lint {args.files} files, --jobs {cpus}:   {explicit * 1000:7.1f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
