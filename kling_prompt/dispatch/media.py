"""Local media inputs: find them in the arguments, hash them, and check them before any upload.

A value in a file-input field (``image_url``, ``video_url``, ``image_urls[1]``,
``elements[0].frontal_image_url``, ...) that is a local path or a ``file://`` URL is a local file;
``http(s)://`` and ``data:`` values are sent as they are. Relative paths are resolved against the
folder of the payload file they came from (the current folder otherwise).

Probing reads format, size, pixel size and video duration and checks them against the catalog's
limits (fal rejects such inputs only after the job was queued). It needs the optional ``media``
extra (Pillow for images, hachoir for videos); without it probing is skipped with a note.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from kling_prompt.errors import CatalogError, Problem

__all__ = ["LocalFile", "Probe", "find_local_files", "is_local", "probe", "sha256_file"]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_PIL_FORMATS = {"JPEG": "JPG", "MPO": "JPG"}
_VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".m4v", ".gif", ".mkv", ".avi"}
_AUDIO_SUFFIXES = {".mp3", ".wav", ".m4a", ".aac", ".ogg", ".flac"}


def is_local(value: str) -> bool:
    """Whether a file-field value names a local file (a path or a ``file://`` URL)."""
    if value.startswith("file:"):
        return True
    return not _SCHEME.match(value) or bool(_DRIVE.match(value))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class LocalFile:
    """One local file named in the arguments, at field path ``loc``."""

    __slots__ = ("formats", "kind", "limits", "loc", "path", "sha256", "size", "value")

    def __init__(
        self,
        loc: str,
        value: str,
        path: Path,
        *,
        kind: str,
        formats: tuple[str, ...] | None,
        limits: Mapping[str, Any],
    ) -> None:
        self.loc = loc
        self.value = value
        self.path = path
        self.kind = kind
        self.formats = formats
        self.limits = dict(limits)
        self.size = path.stat().st_size
        self.sha256 = sha256_file(path)

    def __repr__(self) -> str:
        return f"LocalFile({self.loc!r}, {str(self.path)!r}, {self.kind})"


def _to_path(value: str, base: Path) -> Path:
    if value.startswith("file:"):
        parts = urlsplit(value)
        path = Path(unquote(parts.path))
    else:
        path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def _guess_kind(name: str, value: str) -> str:
    lowered = name.lower()
    suffix = Path(value).suffix.lower()
    if "video" in lowered or suffix in _VIDEO_SUFFIXES:
        return "video"
    if "audio" in lowered or "voice" in lowered or suffix in _AUDIO_SUFFIXES:
        return "audio"
    return "image"


def _file_fields(
    endpoint_id: str, arguments: Mapping[str, Any]
) -> Iterator[tuple[str, str, str, Any]]:
    """``(loc, field name, value, field info or None)`` for every string in a file field."""
    from kling_prompt.catalog import data

    try:
        info = data.get(endpoint_id)
    except CatalogError:
        yield from _guess_fields(arguments, "")
        return
    yield from _walk(info.fields, arguments, "")


def _walk(
    fields: Mapping[str, Any], value: Mapping[str, Any], prefix: str
) -> Iterator[tuple[str, str, str, Any]]:
    from kling_prompt.catalog import data

    for name, spec in fields.items():
        if name not in value:
            continue
        item = value[name]
        loc = prefix + name
        if spec.file:
            if isinstance(item, str):
                yield loc, name, item, spec
            elif isinstance(item, list):
                for i, element in enumerate(item):
                    if isinstance(element, str):
                        yield f"{loc}[{i}]", name, element, spec
        nested = spec.nested
        if nested is None:
            continue
        try:
            inner = data.shared_type(nested).fields
        except CatalogError:
            continue
        if isinstance(item, Mapping):
            yield from _walk(inner, item, loc + ".")
        elif isinstance(item, list):
            for i, element in enumerate(item):
                if isinstance(element, Mapping):
                    yield from _walk(inner, element, f"{loc}[{i}].")


def _guess_fields(value: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, str, str, Any]]:
    """Without catalog facts: fields named ``*_url`` or ``*_urls``, at any depth."""
    for name, item in value.items():
        loc = prefix + name
        if isinstance(item, str) and name.endswith("_url"):
            yield loc, name, item, None
        elif isinstance(item, list):
            for i, element in enumerate(item):
                if isinstance(element, str) and name.endswith("_urls"):
                    yield f"{loc}[{i}]", name, element, None
                elif isinstance(element, Mapping):
                    yield from _guess_fields(element, f"{loc}[{i}].")
        elif isinstance(item, Mapping):
            yield from _guess_fields(item, loc + ".")


def find_local_files(
    endpoint_id: str, arguments: Mapping[str, Any], base: Path
) -> tuple[list[LocalFile], list[Problem]]:
    """The local files in ``arguments`` and problems for the ones that cannot be read."""
    from kling_prompt.catalog import data

    media: Mapping[str, Any] = {}
    with contextlib.suppress(CatalogError):
        media = data.get(endpoint_id).capabilities.media
    constants = data.constants()
    found: list[LocalFile] = []
    problems: list[Problem] = []
    for loc, name, value, spec in _file_fields(endpoint_id, arguments):
        if not is_local(value):
            continue
        path = _to_path(value, base)
        if not path.is_file():
            where = "" if Path(value).is_absolute() else f" (relative paths start at {base})"
            problems.append(
                Problem(
                    loc, f"no such file: {value}{where}; fix the path or use a URL", "file_missing"
                )
            )
            continue
        facts: Mapping[str, Any] = (
            media.get(name, {}) if loc == name or loc.startswith(name + "[") else {}
        )
        kind = str(facts.get("kind") or _guess_kind(name, value))
        formats = facts.get("formats") or constants.get(f"{kind}_formats")
        limits = dict(facts.get("limits") or {})
        if spec is not None and spec.file_limits:
            limits = {**spec.file_limits, **limits}
        try:
            found.append(
                LocalFile(
                    loc,
                    value,
                    path.resolve(),
                    kind=kind,
                    formats=tuple(formats) if formats else None,
                    limits=limits,
                )
            )
        except OSError as exc:
            problems.append(Problem(loc, f"cannot read {path}: {exc.strerror}", "file_unreadable"))
    return found, problems


class Probe:
    """What probing found: problems that block the job, notes, and input durations."""

    __slots__ = ("durations", "notes", "problems")

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.durations: dict[str, float] = {}

    @property
    def input_seconds(self) -> float | None:
        """The longest top-level video or audio input, for prices that follow the input."""
        top = [s for loc, s in self.durations.items() if "." not in loc and "[" not in loc]
        return max(top) if top else None


def probe(
    files: list[LocalFile],
    *,
    arguments: Mapping[str, Any],
    motion_control: Mapping[str, Any] | None = None,
    orientation_default: Any = None,
) -> Probe:
    """Check local files against their field's formats and limits."""
    report = Probe()
    for file in files:
        _check_size(file, report)
        suffix = file.path.suffix.lower().lstrip(".")
        if file.kind == "image":
            _probe_image(file, report)
        elif file.kind in ("video", "audio"):
            if file.formats and suffix and _fmt(suffix) not in file.formats:
                report.problems.append(
                    Problem(
                        file.loc,
                        f"{file.path.name}: .{suffix} is not accepted here; use "
                        f"{', '.join(file.formats)}",
                        "file_format",
                    )
                )
            _probe_media(file, report)
    if motion_control and "video_url" in report.durations:
        _check_reference_seconds(report, arguments, motion_control, orientation_default)
    return report


def _fmt(name: str) -> str:
    upper = name.upper()
    return {"JPEG": "JPG"}.get(upper, upper)


def _check_size(file: LocalFile, report: Probe) -> None:
    limit = file.limits.get("max_file_size")
    if limit and file.size > limit:
        report.problems.append(
            Problem(
                file.loc,
                f"{file.path.name} is {_mb(file.size)}; this field takes at most {_mb(limit)}",
                "file_too_large",
            )
        )


def _mb(size: float) -> str:
    return f"{size / (1 << 20):.1f} MB"


def _check_pixels(file: LocalFile, width: int, height: int, report: Probe) -> None:
    lim = file.limits
    name = file.path.name
    if (lim.get("min_width") and width < lim["min_width"]) or (
        lim.get("min_height") and height < lim["min_height"]
    ):
        report.problems.append(
            Problem(
                file.loc,
                f"{name} is {width}x{height} px; this field needs at least "
                f"{lim.get('min_width', 0)}x{lim.get('min_height', 0)}",
                "file_too_small",
            )
        )
    if (lim.get("max_width") and width > lim["max_width"]) or (
        lim.get("max_height") and height > lim["max_height"]
    ):
        report.problems.append(
            Problem(
                file.loc,
                f"{name} is {width}x{height} px; this field takes at most "
                f"{lim.get('max_width', '?')}x{lim.get('max_height', '?')}",
                "file_too_big",
            )
        )
    if height > 0:
        ratio = width / height
        low, high = lim.get("min_aspect_ratio"), lim.get("max_aspect_ratio")
        if (low and ratio < low) or (high and ratio > high):
            report.problems.append(
                Problem(
                    file.loc,
                    f"{name} has aspect ratio {ratio:.2f} (width/height); this field takes "
                    f"{low or 0}..{high or 'any'}",
                    "file_aspect_ratio",
                )
            )


def _probe_image(file: LocalFile, report: Probe) -> None:
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        report.notes.append(
            f"{file.loc}: image not checked (install kling-prompt[media] for Pillow)"
        )
        return
    try:
        with Image.open(file.path) as image:
            fmt = _PIL_FORMATS.get(str(image.format), str(image.format))
            width, height = image.size
    except (UnidentifiedImageError, OSError) as exc:
        report.problems.append(
            Problem(file.loc, f"{file.path.name} is not a readable image ({exc})", "file_format")
        )
        return
    if file.formats and fmt not in file.formats:
        report.problems.append(
            Problem(
                file.loc,
                f"{file.path.name} is {fmt}; this field takes {', '.join(file.formats)}",
                "file_format",
            )
        )
    _check_pixels(file, width, height, report)


def _probe_media(file: LocalFile, report: Probe) -> None:
    try:
        from hachoir.core import config as hachoir_config
        from hachoir.metadata import extractMetadata
        from hachoir.parser import createParser
    except ImportError:
        report.notes.append(
            f"{file.loc}: {file.kind} not checked (install kling-prompt[media] for hachoir)"
        )
        return
    hachoir_config.quiet = True
    try:
        parser = createParser(str(file.path))
        if parser is None:
            raise ValueError("unknown container")
        with parser:
            meta = extractMetadata(parser)
    except Exception as exc:  # hachoir raises many kinds on damaged files
        report.problems.append(
            Problem(
                file.loc, f"{file.path.name} is not a readable {file.kind} ({exc})", "file_format"
            )
        )
        return
    if meta is None:
        report.notes.append(f"{file.loc}: no metadata found in {file.path.name}; not checked")
        return
    lim = file.limits
    if meta.has("duration"):
        seconds = float(meta.get("duration").total_seconds())
        report.durations[file.loc] = seconds
        low, high = lim.get("min_duration"), lim.get("max_duration")
        if (low and seconds < low) or (high and seconds > high):
            report.problems.append(
                Problem(
                    file.loc,
                    f"{file.path.name} lasts {seconds:.2f} s; this field takes "
                    f"{low or 0}..{high or 'any'} s",
                    "file_duration",
                )
            )
    if file.kind == "video" and meta.has("width") and meta.has("height"):
        _check_pixels(file, int(meta.get("width")), int(meta.get("height")), report)
    if file.kind == "video" and meta.has("frame_rate"):
        fps = float(meta.get("frame_rate"))
        low, high = lim.get("min_fps"), lim.get("max_fps")
        if (low and fps < low) or (high and fps > high):
            report.problems.append(
                Problem(
                    file.loc,
                    f"{file.path.name} runs at {fps:g} fps; this field takes {low or 0}..{high or 'any'}",
                    "file_fps",
                )
            )


def _check_reference_seconds(
    report: Probe,
    arguments: Mapping[str, Any],
    motion_control: Mapping[str, Any],
    orientation_default: Any,
) -> None:
    seconds = report.durations["video_url"]
    orientation = arguments.get("character_orientation") or orientation_default
    bounds = (motion_control.get("reference_seconds") or {}).get(str(orientation))
    if not bounds:
        return
    low, high = bounds
    if not low <= seconds <= high + 0.05:
        report.problems.append(
            Problem(
                "video_url",
                f"the reference video lasts {seconds:.2f} s; with character_orientation="
                f"{orientation!r} motion control takes {low}..{high} s",
                "file_duration",
            )
        )
