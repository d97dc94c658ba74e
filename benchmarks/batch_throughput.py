"""Batch throughput against the sandbox: wall time against the ideal, and CPU time per job.

    .venv/bin/python benchmarks/batch_throughput.py [--jobs 200] [--concurrency 16] [--latency 1]

The sandbox runs in a child process (``python -m kling_prompt.sandbox``), so this process's CPU
time is the dispatcher's own: lint, validation and pricing of every request, submits, polls,
downloads and ledger writes. Ideal wall time = jobs / concurrency x latency (fal's queue doing
all the work, no overhead). Network: 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T2V = "fal-ai/kling-video/v2.1/master/text-to-video"
PROMPT = (
    "A red fox trots across fresh snow at dawn, the camera tracking slowly beside it at ground "
    "level, soft golden light and long blue shadows, breath visible in the cold air, take {n}"
)


def start_sandbox(latency: float) -> tuple[subprocess.Popen[str], dict[str, str]]:
    child = subprocess.Popen(
        [sys.executable, "-m", "kling_prompt.sandbox", "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    env: dict[str, str] = {}
    unset: list[str] = []
    for line in child.stdout:
        if line.startswith("export "):
            name, _, value = line[7:].strip().partition("=")
            env[name] = value.strip("'")
        elif line.startswith("unset "):
            unset = line.split()[1:]
            break
    for name in unset:
        os.environ.pop(name, None)
    return child, env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=1.0, help="simulated seconds per job")
    parser.add_argument("--poll-interval", type=float, default=0.1)
    args = parser.parse_args()

    child, env = start_sandbox(args.latency)
    os.environ.update(env)
    try:
        from kling_prompt.dispatch import Batch, Dispatcher
        from kling_prompt.request import Request

        requests = [
            Request(T2V, {"prompt": PROMPT.format(n=n), "duration": "5"}, path=f"clip{n}.json")
            for n in range(args.jobs)
        ]
        with tempfile.TemporaryDirectory(prefix="kling-bench-") as tmp:
            with Dispatcher(
                ledger=Path(tmp) / "ledger.sqlite3",
                out_dir=Path(tmp) / "out",
                poll_interval=args.poll_interval,
                timeout=120,
            ) as dispatcher:
                cpu0, wall0 = time.process_time(), time.perf_counter()
                batch = Batch(dispatcher, concurrency=args.concurrency)
                for request in requests:
                    batch.add(request)
                batch.plan()  # lint, validation, pricing, ledger lookups: no network
                plan_wall = time.perf_counter() - wall0
                plan_cpu = time.process_time() - cpu0
                summary = batch.run()
                wall = time.perf_counter() - wall0
                cpu = time.process_time() - cpu0
            videos = len(list((Path(tmp) / "out").glob("*.mp4")))
    finally:
        child.terminate()
        child.wait()

    ideal = args.jobs / args.concurrency * args.latency
    done = len(summary.completed)
    print(
        f"jobs {args.jobs}, concurrency {args.concurrency}, latency {args.latency:g} s, "
        f"poll every {args.poll_interval:g} s"
    )
    print(f"completed {done}, videos {videos}, {summary.counts()}")
    print(
        f"wall {wall:.2f} s vs ideal {ideal:.2f} s ({wall / ideal:.2f}x, overhead {wall - ideal:+.2f} s)"
    )
    print(
        f"  of which planning {plan_wall:.2f} s (CPU {plan_cpu:.2f} s); sending {wall - plan_wall:.2f} s"
    )
    print(
        f"dispatcher CPU {cpu:.2f} s = {cpu / args.jobs * 1000:.1f} ms per job "
        "(prepare, submit, polls, download, ledger)"
    )
    return 0 if done == args.jobs else 1


if __name__ == "__main__":
    sys.exit(main())
