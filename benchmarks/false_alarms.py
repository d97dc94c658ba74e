"""False-alarm report: every rule's hits on the real corpus, with reviewed precision.

    .venv/bin/python benchmarks/false_alarms.py [--samples DIR] [--show-info]

Lints every real prompt against a matching endpoint (see corpus.py), counts diagnostics per
code, and prints a table: code, severity, prompts hit, share of the corpus, and how many of 20
sampled hits a reviewer judged right (from false_alarm_review.json, written after reading the
samples that ``--samples DIR`` dumps: 20 hits per code, chosen with a fixed seed).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import records, request_for

from kling_prompt.linter import Linter

REVIEW = Path(__file__).resolve().parent / "false_alarm_review.json"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", help="folder to write 20 sampled hits per code for review")
    parser.add_argument("--show-info", action="store_true", help="include info-level rules")
    args = parser.parse_args()
    linter = Linter()
    rows = records()
    hits: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    prompts_hit: Counter[str] = Counter()
    severity: dict[str, str] = {}
    for record in rows:
        request = request_for(record)
        seen: set[str] = set()
        for d in linter.lint(request):
            if d.severity == "info" and not args.show_info:
                continue
            severity[d.code] = d.severity
            text = request.arguments.get("prompt", "")
            excerpt = text[d.start : d.end] if d.start is not None and d.field == "prompt" else ""
            hits[d.code].append((str(record.get("id")), excerpt, d.message))
            seen.add(d.code)
        prompts_hit.update(seen)
    review = json.loads(REVIEW.read_text(encoding="utf-8")) if REVIEW.is_file() else {}
    review.pop("_about", None)
    print(f"{len(rows)} real prompts, each sent to a matching endpoint\n")
    print(f"{'code':<7} {'severity':<8} {'prompts':>7} {'share':>6}  right of (up to) 20 sampled")
    for code in sorted(hits):
        share = prompts_hit[code] / len(rows)
        judged = review.get(code)
        verdict = f"{judged['right']}/{judged['sampled']}" if judged else "not reviewed"
        if judged and judged.get("note"):
            verdict += f"  ({judged['note']})"
        flag = "  > 10%" if share > 0.10 else ""
        print(
            f"{code:<7} {severity[code]:<8} {prompts_hit[code]:>7} {share:>6.1%}  {verdict}{flag}"
        )
    if args.samples:
        out = Path(args.samples)
        out.mkdir(parents=True, exist_ok=True)
        rng = random.Random(7)
        for code, found in hits.items():
            chosen = found if len(found) <= 20 else rng.sample(found, 20)
            lines = [f"# {code}: {len(found)} hits, {len(chosen)} sampled\n"]
            for rid, excerpt, message in chosen:
                prompt = next(r["prompt"] for r in rows if str(r.get("id")) == rid)
                lines.append(
                    f"## {rid}\n- flagged: `{excerpt}`\n- message: {message}\n- prompt: {prompt}\n"
                )
            (out / f"{code}.md").write_text("\n".join(lines), encoding="utf-8")
        print(f"\nsamples written to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
