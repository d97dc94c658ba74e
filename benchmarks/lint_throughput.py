"""Lint throughput on the real corpus, against a tokenize-only baseline measured in the same run.

    .venv/bin/python benchmarks/lint_throughput.py [--records 10000] [--select KP1,KP2] [--per-rule]

Prints prompts per second for the shared tokenizer alone, for the default run of
``kling-prompt lint`` (info hidden, so rules that can only report info are not run) and for every
rule including info, with their ratios to the tokenizer; ``--per-rule`` adds where the time goes (text analysis, then each rule). Targets: at least 20,000 prompts/s on one core, and at least a fifth of the
tokenize-only rate. One process pinned to one core (``--cpu``); the first pass warms caches and is
not timed.

The lint-engine families alone: ``--select KP0,KP1,KP2,KP4,KP6``. The figures include the compiled
helpers when the install built them; ``KLING_PROMPT_PURE_PYTHON=1`` measures the pure-Python path.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import requests

from kling_prompt.linter import Config, Linter
from kling_prompt.linter.rules import Context
from kling_prompt.linter.text import tokenize
from kling_prompt.request import Request


def best_of(fn, rounds: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def pin(cpu: int | None) -> str:
    """Keep the process on one core (Linux), so that it measures one core and is not moved
    between cores mid-run (each move starts it on cold caches). What is printed says which."""
    if cpu == -1 or not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    allowed = sorted(os.sched_getaffinity(0))
    chosen = allowed[-1] if cpu is None else cpu
    os.sched_setaffinity(0, {chosen})
    return f"pinned to core {chosen} (--cpu -1: not pinned)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--select", help="comma-separated rule selectors (default: all)")
    parser.add_argument("--per-rule", action="store_true", help="also print the cost of each rule")
    parser.add_argument(
        "--cpu",
        type=int,
        default=None,
        help="the core to run on (default: the last one this process may use; -1: do not pin)",
    )
    args = parser.parse_args()
    print(f"cpu                  {pin(args.cpu)}")
    base = requests()
    batch = (base * (args.records // len(base) + 1))[: args.records]
    prompts = [r.arguments["prompt"] for r in batch]
    config = Config({"select": args.select.split(",")} if args.select else {})
    # Every rule, as the API runs them; and what ``kling-prompt lint`` runs by default, where
    # info is hidden and the rules that can only report info are not run.
    linter = Linter(config)
    shown = Linter(config, skip_hidden=True)
    for request in base:  # warm-up: compile caches, rule selection per mode
        linter.lint(request)
        shown.lint(request)

    def tokenize_all() -> None:
        for p in prompts:
            tokenize(p)

    def lint_all(which: Linter) -> Callable[[], None]:
        def run() -> None:
            for request in batch:
                which.lint(request)

        return run

    t_tok = best_of(tokenize_all, args.rounds)
    t_all = best_of(lint_all(linter), args.rounds)
    t_shown = best_of(lint_all(shown), args.rounds)
    n = len(batch)
    tok_rate = n / t_tok
    print(f"records              {n}")
    active = [r for r in linter.rules if linter.enabled(r.meta.code)]
    running = {r.meta.code for r in active if not shown._hidden(r.meta)}
    print(
        f"rules active         {len(active)} ({args.select or 'all'}); {len(running)} not info-only"
    )
    print(f"tokenize only        {tok_rate:>10,.0f} prompts/s  ({t_tok * 1e6 / n:.1f} us/prompt)")
    for label, t in (
        ("lint, info hidden", t_shown),
        ("lint, every rule", t_all),
    ):
        rate = n / t
        print(
            f"{label:20s} {rate:>10,.0f} prompts/s  ({t * 1e6 / n:.1f} us/prompt)  "
            f"ratio {rate / tok_rate:.2f} (target >= 0.20), "
            f"20,000/s {'met' if rate >= 20_000 else 'NOT met'}"
        )
    if args.per_rule:
        per_rule(linter, base)
    return 0


def per_rule(linter: Linter, base: list[Request], rounds: int = 5) -> None:
    """Microseconds per prompt in text analysis and in each rule (the rules a request's gates
    select, called as the engine calls them), over the unrepeated corpus."""
    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    setup = 0.0
    clock = time.perf_counter
    for _ in range(rounds):
        for request in base:
            t0 = clock()
            info, mode, family = linter.resolve(request)
            ctx = Context(
                request, info=info, mode=mode, family=family, matcher=linter.matcher, config=None
            )
            ctx.options, ctx.severity = linter._options, linter.severity
            chosen = linter.plan(mode, family, request.path).select(ctx)
            setup += clock() - t0
            for check, meta in chosen:
                t0 = clock()
                list(check(ctx, meta))
                spent[meta.code] += clock() - t0
                calls[meta.code] += 1
    n = len(base) * rounds
    print(f"\nper prompt: context and gates {setup / n * 1e6:.1f} us, then each rule called")
    print("(the first rule to ask for a shared analysis, such as lexicon hits, pays for it):")
    for code, t in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {code}  {t / n * 1e6:6.2f} us   on {calls[code] / rounds:>5.0f} of {len(base)}")
    print(f"  all rules {sum(spent.values()) / n * 1e6:.1f} us")


if __name__ == "__main__":
    sys.exit(main())
