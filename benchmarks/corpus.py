"""The real-prompt corpus, each record turned into a request for a matching endpoint.

The corpus lives in ``../shared/corpus/real_prompts.jsonl`` beside the project (or the path in
``KLING_PROMPT_CORPUS``). Records name a model loosely ("kling-v2.6", "kling-o1 (fal
reference-to-video)", none); this picks the endpoint of the same family and mode, and supplies
placeholder media for the inputs the mode requires, so payload rules judge the prompt, not a
missing URL. References written in the prompt (``@Image2``, ``@Element1``) get as many
placeholders as they name, time marks ("at the 8-second mark") get the shortest allowed duration
that contains them, and a negative prompt is sent only where the endpoint has the field: the
request the prompt was written for.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kling_prompt.catalog import data as catalog
from kling_prompt.linter.text import Analysis
from kling_prompt.request import Request

HERE = Path(__file__).resolve().parent
DEFAULT = HERE.parent.parent / "shared" / "corpus" / "real_prompts.jsonl"
IMAGE = "https://example.com/still.png"
VIDEO = "https://example.com/clip.mp4"


def corpus_path() -> Path:
    return Path(os.environ.get("KLING_PROMPT_CORPUS", DEFAULT))


def records() -> list[dict[str, Any]]:
    with open(corpus_path(), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _family(model: str | None) -> str:
    m = (model or "").lower()
    if "o1" in m:
        return "o1"
    if "o3" in m or "omni" in m:
        return "o3"
    if "v2.6" in m:
        return "v2.6"
    if "v2.5" in m:
        return "v2.5-turbo"
    return "v3"


def request_for(record: dict[str, Any]) -> Request:
    """A request sending the record's prompt to an endpoint matching its model and mode."""
    mode = record.get("mode") or "text-to-video"
    if mode == "extend":
        mode = "text-to-video"
    family = _family(record.get("model"))
    prompt = record["prompt"]
    args: dict[str, Any] = {"prompt": prompt}
    if record.get("negative_prompt"):
        args["negative_prompt"] = record["negative_prompt"]
    refs: dict[str, int] = {}
    for ref in Analysis(prompt).references:
        refs[ref.kind] = max(refs.get(ref.kind, 0), ref.index)
    if mode == "text-to-video":
        endpoint = {
            "v2.6": "fal-ai/kling-video/v2.6/pro/text-to-video",
            "v2.5-turbo": "fal-ai/kling-video/v2.5-turbo/pro/text-to-video",
            "o3": "fal-ai/kling-video/o3/pro/text-to-video",
        }.get(family, "fal-ai/kling-video/v3/pro/text-to-video")
    elif mode == "image-to-video":
        if family == "v2.6":
            endpoint, args["start_image_url"] = "fal-ai/kling-video/v2.6/pro/image-to-video", IMAGE
        elif family == "v2.5-turbo":
            endpoint, args["image_url"] = "fal-ai/kling-video/v2.5-turbo/pro/image-to-video", IMAGE
        elif family == "o1":
            endpoint, args["start_image_url"] = "fal-ai/kling-video/o1/image-to-video", IMAGE
        else:
            endpoint, args["start_image_url"] = "fal-ai/kling-video/v3/pro/image-to-video", IMAGE
    elif mode == "motion-control":
        endpoint = "fal-ai/kling-video/v2.6/pro/motion-control"
        args.update(image_url=IMAGE, video_url=VIDEO, character_orientation="video")
    else:  # reference-to-video
        endpoint = (
            "fal-ai/kling-video/o1/reference-to-video"
            if family == "o1"
            else "fal-ai/kling-video/o3/pro/reference-to-video"
        )
        images = refs.get("image", 0)
        if images:
            args["image_urls"] = [IMAGE] * images
        if refs.get("element"):
            args["elements"] = [
                {"frontal_image_url": IMAGE, "reference_image_urls": [IMAGE]}
                for _ in range(refs["element"])
            ]
    info = catalog.get(endpoint)
    if "negative_prompt" in args and not info.accepts("negative_prompt"):
        del args["negative_prompt"]
    marks = [seconds for seconds, _, _ in Analysis(prompt).time_marks]
    durations = info.capabilities.durations or []
    if marks and durations:
        longest = max(marks)
        fitting = [d for d in durations if float(d) >= longest]
        if fitting and float(fitting[0]) > float(info.capabilities.duration_default or 5):
            args["duration"] = info.duration_value(fitting[0])
    return Request(endpoint, args, mode=mode, record=record.get("id"))


def requests() -> list[Request]:
    return [request_for(r) for r in records()]
