"""Windows metafiles (.emf, .wmf) holding a graph as one bitmap.

Stata for Windows exports graphs as vector metafiles for Word; do-files written there say
`graph export fig.emf`. matplotlib has no metafile backend, so hlmshell writes the drawn raster
(24-bit, at the export's pixel size) into a metafile container: one EMR_STRETCHDIBITS record in
an EMF, one META_STRETCHDIB record in a placeable WMF. Office and LibreOffice place it at the
graph's physical size. The bytes follow [MS-EMF] and [MS-WMF]; only little-endian packing of
documented records, no drawing logic.
"""
from __future__ import annotations

import struct

import numpy as np

_SRCCOPY = 0x00CC0020
_DIB_RGB_COLORS = 0


def _dib(rgb: np.ndarray) -> tuple[bytes, bytes]:
    """(BITMAPINFOHEADER, pixel bytes): 24-bit BGR rows, bottom-up, each padded to 4 bytes."""
    h, w, _ = rgb.shape
    bgr = np.ascontiguousarray(rgb[::-1, :, 2::-1], dtype=np.uint8)
    stride = (w * 3 + 3) & ~3
    rows = np.zeros((h, stride), dtype=np.uint8)
    rows[:, : w * 3] = bgr.reshape(h, w * 3)
    bits = rows.tobytes()
    header = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(bits), 0, 0, 0, 0)
    return header, bits


def emf_bytes(rgb: np.ndarray, dpi: float) -> bytes:
    """An enhanced metafile showing the RGB image (h x w x 3, uint8) at `dpi`."""
    h, w, _ = rgb.shape
    bmi, bits = _dib(rgb)
    frame = (0, 0, round(w / dpi * 2540) - 1, round(h / dpi * 2540) - 1)   # 0.01 mm
    # the reference device: 96 dpi, 1920 x 1080 pixels (508 x 286 mm)
    dev_px, dev_mm = (1920, 1080), (508, 286)
    fixed = 80
    stretch = struct.pack("<II4iiiiiiiIIIIIIii", 81, fixed + len(bmi) + len(bits),
                          0, 0, w - 1, h - 1,                  # rclBounds
                          0, 0, 0, 0, w, h,                    # xDest yDest xSrc ySrc cxSrc cySrc
                          fixed, len(bmi), fixed + len(bmi), len(bits),
                          _DIB_RGB_COLORS, _SRCCOPY, w, h) + bmi + bits
    eof = struct.pack("<IIIII", 14, 20, 0, 16, 20)
    header_size = 108
    total = header_size + len(stretch) + len(eof)
    header = struct.pack("<II4i4iIIIIHHIIIii ii III ii".replace(" ", ""),
                         1, header_size, 0, 0, w - 1, h - 1, *frame,
                         0x464D4520, 0x10000, total, 3, 1, 0, 0, 0, 0,
                         *dev_px, *dev_mm, 0, 0, 0,
                         dev_mm[0] * 1000, dev_mm[1] * 1000)
    return header + stretch + eof


def wmf_bytes(rgb: np.ndarray, dpi: float) -> bytes:
    """A placeable Windows metafile showing the RGB image at `dpi` (logical units = pixels)."""
    h, w, _ = rgb.shape
    if w > 32767 or h > 32767:
        raise ValueError("graph too large for a WMF")
    bmi, bits = _dib(rgb)
    inch = max(1, min(round(dpi), 32767))
    words = struct.pack("<IHhhhhHI", 0x9AC6CDD7, 0, 0, 0, w, h, inch, 0)
    checksum = 0
    for (v,) in struct.iter_unpack("<H", words[:20]):
        checksum ^= v
    placeable = words + struct.pack("<H", checksum)

    def record(function: int, params: bytes) -> bytes:
        return struct.pack("<IH", (6 + len(params)) // 2, function) + params

    body = [record(0x0103, struct.pack("<h", 8)),                      # META_SETMAPMODE MM_ANISOTROPIC
            record(0x020B, struct.pack("<hh", 0, 0)),                  # META_SETWINDOWORG (y, x)
            record(0x020C, struct.pack("<hh", h, w)),                  # META_SETWINDOWEXT (y, x)
            record(0x0F43, struct.pack("<IHhhhhhhhh", _SRCCOPY, _DIB_RGB_COLORS,
                                       h, w, 0, 0, h, w, 0, 0) + bmi + bits
                   + (b"\0" if (len(bmi) + len(bits)) % 2 else b"")),
            record(0x0000, b"")]                                          # META_EOF
    size_words = (18 + sum(len(r) for r in body)) // 2
    max_record = max(len(r) for r in body) // 2
    meta_header = struct.pack("<HHHIHIH", 1, 9, 0x0300, size_words, 0, max_record, 0)
    return placeable + meta_header + b"".join(body)


def figure_rgb(fig) -> np.ndarray:
    """The matplotlib figure drawn to an RGB array by the Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()
