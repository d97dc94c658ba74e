"""Tiny but real H.264/MP4 files, written in pure Python.

The sandbox must hand out result videos that media tools accept (right duration, right width and
height) without ffmpeg or an encoder at run time. The trick: the first frame is an IDR picture made
only of I_PCM macroblocks (raw samples, no transform or entropy coding to get wrong), and every
later frame is a P picture whose macroblocks are all skipped (a few bytes each). The elementary
stream is then wrapped in a minimal ISO-BMFF file (ftyp, moov, mdat; moov first, so it streams).
"""

from __future__ import annotations

import functools
import struct

__all__ = ["FPS", "SIZES", "make_mp4", "video_size"]

FPS = 24
"""Frame rate of every sandbox video (Kling's own output is 24 fps)."""

SIZES: dict[str, tuple[int, int]] = {
    "16:9": (128, 72),
    "9:16": (72, 128),
    "1:1": (96, 96),
}
"""Width and height per aspect ratio: small on purpose, the pixels carry no meaning."""

_TIMESCALE = FPS * 512
_SAMPLE_DELTA = 512
_LOG2_MAX_FRAME_NUM = 8
_PROFILE_BASELINE = 66
_LEVEL = 30


def video_size(aspect_ratio: str) -> tuple[int, int]:
    """Return (width, height) for a Kling aspect ratio; unknown ratios fall back to 16:9."""
    return SIZES.get(aspect_ratio, SIZES["16:9"])


class _Bits:
    """MSB-first bit writer with the Exp-Golomb codes H.264 headers use."""

    def __init__(self) -> None:
        self._out = bytearray()
        self._acc = 0
        self._n = 0

    def u(self, nbits: int, value: int) -> None:
        for shift in range(nbits - 1, -1, -1):
            self._acc = (self._acc << 1) | ((value >> shift) & 1)
            self._n += 1
            if self._n == 8:
                self._out.append(self._acc)
                self._acc = 0
                self._n = 0

    def ue(self, value: int) -> None:
        code = value + 1
        length = code.bit_length()
        self.u(length - 1, 0)
        self.u(length, code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def align_zero(self) -> None:
        while self._n:
            self.u(1, 0)

    def raw(self, data: bytes) -> None:
        assert self._n == 0, "raw bytes need byte alignment"
        self._out += data

    def trailing(self) -> bytes:
        self.u(1, 1)
        self.align_zero()
        return bytes(self._out)


def _nal(ref_idc: int, unit_type: int, rbsp: bytes) -> bytes:
    """Build a NAL unit, inserting emulation-prevention bytes where the RBSP needs them."""
    out = bytearray([(ref_idc << 5) | unit_type])
    zeros = 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _mbs(width: int, height: int) -> tuple[int, int]:
    return (width + 15) // 16, (height + 15) // 16


def _sps(width: int, height: int) -> bytes:
    mbw, mbh = _mbs(width, height)
    b = _Bits()
    b.u(8, _PROFILE_BASELINE)
    b.u(8, 0b11000000)  # constraint_set0/1: plain Baseline
    b.u(8, _LEVEL)
    b.ue(0)  # seq_parameter_set_id
    b.ue(_LOG2_MAX_FRAME_NUM - 4)
    b.ue(2)  # pic_order_cnt_type 2: output order = decode order
    b.ue(1)  # max_num_ref_frames
    b.u(1, 0)  # gaps_in_frame_num_value_allowed_flag
    b.ue(mbw - 1)
    b.ue(mbh - 1)
    b.u(1, 1)  # frame_mbs_only_flag
    b.u(1, 1)  # direct_8x8_inference_flag
    crop_right = (mbw * 16 - width) // 2
    crop_bottom = (mbh * 16 - height) // 2
    if crop_right or crop_bottom:
        b.u(1, 1)
        for offset in (0, crop_right, 0, crop_bottom):
            b.ue(offset)
    else:
        b.u(1, 0)
    b.u(1, 0)  # vui_parameters_present_flag
    return _nal(3, 7, b.trailing())


def _pps() -> bytes:
    b = _Bits()
    b.ue(0)  # pic_parameter_set_id
    b.ue(0)  # seq_parameter_set_id
    b.u(1, 0)  # entropy_coding_mode_flag: CAVLC
    b.u(1, 0)  # bottom_field_pic_order_in_frame_present_flag
    b.ue(0)  # num_slice_groups_minus1
    b.ue(0)  # num_ref_idx_l0_default_active_minus1
    b.ue(0)  # num_ref_idx_l1_default_active_minus1
    b.u(1, 0)  # weighted_pred_flag
    b.u(2, 0)  # weighted_bipred_idc
    b.se(0)  # pic_init_qp_minus26
    b.se(0)  # pic_init_qs_minus26
    b.se(0)  # chroma_qp_index_offset
    b.u(1, 1)  # deblocking_filter_control_present_flag
    b.u(1, 0)  # constrained_intra_pred_flag
    b.u(1, 0)  # redundant_pic_cnt_present_flag
    return _nal(3, 8, b.trailing())


def _pcm_macroblock(mbx: int, mby: int, mbw: int, mbh: int, cb: int, cr: int) -> bytes:
    """Raw samples for one macroblock: a diagonal luma ramp (never 0, so no escaping needed)."""
    luma = bytearray(256)
    span = max(1, (mbw + mbh) * 16)
    for y in range(16):
        for x in range(16):
            luma[y * 16 + x] = 32 + (((mbx * 16 + x) + (mby * 16 + y)) * 190) // span
    return bytes(luma) + bytes([cb]) * 64 + bytes([cr]) * 64


def _idr(width: int, height: int, chroma: tuple[int, int]) -> bytes:
    mbw, mbh = _mbs(width, height)
    b = _Bits()
    b.ue(0)  # first_mb_in_slice
    b.ue(7)  # slice_type: I (all slices)
    b.ue(0)  # pic_parameter_set_id
    b.u(_LOG2_MAX_FRAME_NUM, 0)  # frame_num
    b.ue(0)  # idr_pic_id
    b.u(1, 0)  # no_output_of_prior_pics_flag
    b.u(1, 0)  # long_term_reference_flag
    b.se(0)  # slice_qp_delta
    b.ue(1)  # disable_deblocking_filter_idc
    for mby in range(mbh):
        for mbx in range(mbw):
            b.ue(25)  # mb_type I_PCM
            b.align_zero()  # pcm_alignment_zero_bit
            b.raw(_pcm_macroblock(mbx, mby, mbw, mbh, *chroma))
    return _nal(3, 5, b.trailing())


def _p_skip(width: int, height: int, frame_num: int) -> bytes:
    mbw, mbh = _mbs(width, height)
    b = _Bits()
    b.ue(0)  # first_mb_in_slice
    b.ue(5)  # slice_type: P (all slices)
    b.ue(0)  # pic_parameter_set_id
    b.u(_LOG2_MAX_FRAME_NUM, frame_num % (1 << _LOG2_MAX_FRAME_NUM))
    b.u(1, 0)  # num_ref_idx_active_override_flag
    b.u(1, 0)  # ref_pic_list_modification_flag_l0
    b.u(1, 0)  # adaptive_ref_pic_marking_mode_flag
    b.se(0)  # slice_qp_delta
    b.ue(1)  # disable_deblocking_filter_idc
    b.ue(mbw * mbh)  # mb_skip_run: every macroblock copies the reference
    return _nal(2, 1, b.trailing())


def _box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *parts)


_MATRIX = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)


def _moov(
    width: int,
    height: int,
    n_frames: int,
    sizes: list[int],
    mdat_offset: int,
    sps: bytes,
    pps: bytes,
) -> bytes:
    media_duration = n_frames * _SAMPLE_DELTA
    movie_duration = media_duration * 1000 // _TIMESCALE
    mvhd = _full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, 1000, movie_duration),
        struct.pack(">IH", 0x00010000, 0x0100),
        bytes(10),
        _MATRIX,
        bytes(24),
        struct.pack(">I", 2),
    )
    tkhd = _full_box(
        b"tkhd",
        0,
        3,
        struct.pack(">IIIII", 0, 0, 1, 0, movie_duration),
        bytes(8),
        struct.pack(">HHHH", 0, 0, 0, 0),
        _MATRIX,
        struct.pack(">II", width << 16, height << 16),
    )
    mdhd = _full_box(
        b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, _TIMESCALE, media_duration, 0x55C4, 0)
    )
    hdlr = _full_box(b"hdlr", 0, 0, struct.pack(">I4s", 0, b"vide"), bytes(12), b"VideoHandler\0")
    avcc = _box(
        b"avcC",
        bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]),
        struct.pack(">H", len(sps)),
        sps,
        bytes([1]),
        struct.pack(">H", len(pps)),
        pps,
    )
    compressor = b"kling_prompt sandbox"
    avc1 = _box(
        b"avc1",
        bytes(6),
        struct.pack(">H", 1),
        bytes(16),
        struct.pack(">HHIIIH", width, height, 0x00480000, 0x00480000, 0, 1),
        bytes([len(compressor)]) + compressor.ljust(31, b"\0"),
        struct.pack(">Hh", 0x0018, -1),
        avcc,
    )
    stbl = _box(
        b"stbl",
        _full_box(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
        _full_box(b"stts", 0, 0, struct.pack(">III", 1, n_frames, _SAMPLE_DELTA)),
        _full_box(b"stss", 0, 0, struct.pack(">II", 1, 1)),
        _full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, n_frames, 1)),
        _full_box(b"stsz", 0, 0, struct.pack(f">II{n_frames}I", 0, n_frames, *sizes)),
        _full_box(b"stco", 0, 0, struct.pack(">II", 1, mdat_offset)),
    )
    dinf = _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1)))
    minf = _box(b"minf", _full_box(b"vmhd", 0, 1, bytes(8)), dinf, stbl)
    trak = _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))
    return _box(b"moov", mvhd, trak)


_CHROMA = {"16:9": (90, 160), "9:16": (160, 90), "1:1": (170, 170)}


@functools.lru_cache(maxsize=64)
def make_mp4(
    duration: float, aspect_ratio: str = "16:9", size: tuple[int, int] | None = None
) -> bytes:
    """Return an H.264 MP4 of ``duration`` seconds at 24 fps for a Kling aspect ratio.

    ``size`` (width, height in pixels, multiples of 16 are exact) overrides the aspect ratio's
    frame size, e.g. ``(352, 640)`` for a small portrait test clip. Deterministic and cached:
    the same arguments always give the same bytes, so a result's ``file_size`` matches what the
    fake CDN serves later.
    """
    if duration <= 0:
        raise ValueError(f"duration must be positive, got {duration!r}")
    if size is not None and (len(size) != 2 or min(size) < 16):
        raise ValueError(f"size must be (width, height) of at least 16 pixels, got {size!r}")
    width, height = size if size is not None else video_size(aspect_ratio)
    n_frames = max(1, round(duration * FPS))
    sps, pps = _sps(width, height), _pps()
    frames = [_idr(width, height, _CHROMA.get(aspect_ratio, _CHROMA["16:9"]))]
    frames += [_p_skip(width, height, n) for n in range(1, n_frames)]
    samples = [struct.pack(">I", len(f)) + f for f in frames]
    sizes = [len(s) for s in samples]
    ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 512), b"isomiso2avc1mp41")
    probe = _moov(width, height, n_frames, sizes, 0, sps, pps)
    mdat_offset = len(ftyp) + len(probe) + 8
    moov = _moov(width, height, n_frames, sizes, mdat_offset, sps, pps)
    return ftyp + moov + _box(b"mdat", *samples)
