"""Starter prompt files for ``kling-prompt new``: one per mode, each lints clean as written."""

from __future__ import annotations

SCAFFOLD_MODES = (
    "text-to-video",
    "image-to-video",
    "reference-to-video",
    "motion-control",
    "video-edit",
    "multi-shot",
)

_HEADER = "# yaml-language-server: $schema=https://raw.githubusercontent.com/kling-prompt/kling-prompt/main/kling_prompt/library/schema.json\n"

_BODIES: dict[str, str] = {
    "text-to-video": """\
model: {mode: text-to-video, family: v3}
config:
  duration: "5"
  aspect_ratio: "16:9"
  generate_audio: false
  negative_prompt: blur, distortion, low quality, watermark
input:
  schema:
    subject: string, who the video is about
    setting: string, where it happens
  default:
    subject: a lighthouse keeper in a yellow raincoat
    setting: a rocky coast at dusk
metadata:
  description: @TITLE@
  tags: [text-to-video]
---
A medium shot of {{ subject }} on {{ setting }}. The keeper walks to the railing, lifts a
lantern and holds it toward the sea as waves break on the rocks below. The camera slowly
pushes in from a low angle. Cinematic, warm lantern light against a cold blue sky, 35mm film look.
""",
    "image-to-video": """\
model: {mode: image-to-video, family: v3}
config:
  start_image_url: https://example.com/replace-with-your-start-frame.png
  duration: "5"
  generate_audio: false
  negative_prompt: blur, distortion, low quality
input:
  schema:
    action: string, what the person in the image does
  default:
    action: turns toward the window and smiles
metadata:
  description: @TITLE@
  tags: [image-to-video]
---
The woman in the frame {{ action }}, then lifts her cup and takes a slow sip. Steam drifts
upward. The camera holds steady, then gently pushes in on her face.
""",
    "reference-to-video": """\
model: {mode: reference-to-video, family: O3}
config:
  image_urls:
    - https://example.com/replace-with-your-character.png
  duration: "5"
  aspect_ratio: "16:9"
  generate_audio: false
input:
  schema:
    place: string, where the character appears
  default:
    place: a sunlit botanical greenhouse
metadata:
  description: @TITLE@
  tags: [reference-to-video]
---
The character from @Image1 walks slowly through {{ place }}, brushing the leaves aside with one
hand, then stops beside a stone fountain and looks up at the glass roof as sunlight breaks through.
The camera tracks alongside at shoulder height. Soft diffused daylight, natural colors, shallow
depth of field.
""",
    "motion-control": """\
model: {mode: motion-control, family: v3}
config:
  image_url: https://example.com/replace-with-your-character.png
  video_url: https://example.com/replace-with-your-motion-reference.mp4
  character_orientation: video
  keep_original_sound: false
input:
  schema:
    place: string, where the character performs
  default:
    place: a rooftop at sunset with the city skyline behind
metadata:
  description: @TITLE@
  tags: [motion-control]
---
The character from the image, in the same outfit, on {{ place }}. Warm golden backlight,
light haze drifting across the frame, cinematic color grade.
""",
    "video-edit": """\
model: {mode: video-edit, family: O3}
config:
  video_url: https://example.com/replace-with-your-clip.mp4
  keep_audio: true
input:
  schema:
    season: string, the look the edit gives the scene
  default:
    season: a snowy winter evening
metadata:
  description: @TITLE@
  tags: [video-edit]
---
Turn the street in @Video1 into {{ season }}: snow on the rooftops, the parked cars and the
pavement, with light snowfall in the air. Keep the people, their movements and the camera motion
exactly as they are.
""",
    "multi-shot": """\
model: {mode: multi-shot, family: v3}
config:
  aspect_ratio: "16:9"
  generate_audio: true
  negative_prompt: blur, distortion, low quality
input:
  schema:
    barista: string, the barista's look
  default:
    barista: a young barista with a green apron
metadata:
  description: @TITLE@
  tags: [multi-shot, dialogue]
shots:
  - duration: 3
    prompt: >-
      Wide shot of a small corner cafe at morning rush. {{ barista | capitalize }} slides a
      latte across the counter while the espresso machine hisses.
  - duration: 3
    prompt: >-
      Close-up of {{ barista }} smiling at the customer. [Barista, cheerful]: "One oat latte,
      extra hot." The camera holds steady.
---
""",
}


def scaffold(mode: str, title: str) -> str:
    """The text of a new prompt file for ``mode`` (see :data:`SCAFFOLD_MODES`)."""
    if mode not in _BODIES:
        raise ValueError(f"no starter for mode {mode!r}; choose one of {', '.join(SCAFFOLD_MODES)}")
    text = _BODIES[mode].replace("@TITLE@", _yaml_text(title))
    head, sep, body = text.partition("---\n")
    return "---\n" + _HEADER + head + sep + body


def _yaml_text(title: str) -> str:
    import json

    return json.dumps(title, ensure_ascii=False)
