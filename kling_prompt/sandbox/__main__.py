"""``python -m kling_prompt.sandbox``: serve the sandbox in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import shlex
import sys
import threading
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kling_prompt.sandbox",
        description="Serve a local fal.ai look-alike on 127.0.0.1 and print the variables "
        "that point fal-client at it.",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free)")
    parser.add_argument(
        "--latency", type=float, default=2.0, help="seconds from submit to COMPLETED (default 2)"
    )
    parser.add_argument(
        "--no-validate",
        action="store_true",
        help="accept any endpoint id and payload instead of checking them against the catalog",
    )
    args = parser.parse_args(argv)

    from .server import Sandbox, accept_all

    sandbox = Sandbox(
        port=args.port, latency=args.latency, validator=accept_all if args.no_validate else None
    )
    env = sandbox.start()
    print(f"# kling_prompt sandbox listening on 127.0.0.1:{sandbox.port}; Ctrl-C stops it.")
    print("# Paste into the shell that runs fal-client:")
    for name, value in env.items():
        print(f"export {name}={shlex.quote(value)}")
    print("unset " + " ".join(sandbox.UNSET_VARS))
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
