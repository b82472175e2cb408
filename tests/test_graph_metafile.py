"""graph export to .emf and .wmf: the drawn bitmap in a metafile container.

Checks: Pillow's metafile header reader (independent of hlmshell) finds the right picture
frame; the EMF's records are walked by their sizes as [MS-EMF] lays them out and its bitmap
equals the PNG export's pixels; the WMF is rendered by libwmf's wmf2gd when installed."""
import os
import shutil
import struct
import subprocess

import numpy as np
import pytest
from PIL import Image

from hlmshell.session import Session
from tests.session_run import HSB_DTA, ok, run


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("mf")
    s = Session()
    ok(s, f'use "{HSB_DTA}", clear')
    ok(s, "scatter mathach ses in 1/300")
    out = {}
    for ext in ("emf", "wmf", "png"):
        f = d / f"g.{ext}"
        text = ok(s, f'graph export "{f}", width(640) replace')
        out[ext] = (f, text)
    return out


def test_messages(files):
    assert "saved as Enhanced Metafile format" in files["emf"][1]
    assert "saved as Windows Metafile format" in files["wmf"][1]


def test_emf_records_and_bitmap(files):
    data = files["emf"][0].read_bytes()
    png = np.asarray(Image.open(files["png"][0]).convert("RGB"))
    h, w, _ = png.shape
    itype, size = struct.unpack_from("<II", data, 0)
    assert itype == 1 and data[40:44] == b" EMF"
    nbytes, nrecords = struct.unpack_from("<II", data, 48)
    assert nbytes == len(data)
    pos, kinds = 0, []
    while pos < len(data):
        t, n = struct.unpack_from("<II", data, pos)
        kinds.append(t)
        if t == 81:                                   # EMR_STRETCHDIBITS
            off_bmi, cb_bmi, off_bits, cb_bits = struct.unpack_from("<IIII", data, pos + 48)
            bw, bh, planes, bits = struct.unpack_from("<iiHH", data, pos + off_bmi + 4)
            assert (bw, bh, planes, bits) == (w, h, 1, 24)
            stride = (w * 3 + 3) & ~3
            raw = np.frombuffer(data, np.uint8, cb_bits, pos + off_bits).reshape(h, stride)
            rgb = raw[::-1, : w * 3].reshape(h, w, 3)[:, :, ::-1]
            assert np.array_equal(rgb, png)
        pos += n
    assert pos == len(data) and kinds == [1, 81, 14] and nrecords == 3
    im = Image.open(files["emf"][0])
    assert im.format == "WMF" and im.info["wmf_bbox"][2:] == (w - 1, h - 1)


def test_wmf_header_and_rendering(files, tmp_path):
    f = files["wmf"][0]
    png = np.asarray(Image.open(files["png"][0]).convert("RGB"))
    h, w, _ = png.shape
    im = Image.open(f)
    assert im.info["wmf_bbox"] == (0, 0, w, h)
    if shutil.which("wmf2gd") is None:
        pytest.skip("libwmf's wmf2gd is not installed")
    out = tmp_path / "r.png"
    subprocess.run(["wmf2gd", "-t", "png", "--maxwidth=%d" % w, "--maxheight=%d" % h,
                    "-o", str(out), str(f)], check=True, capture_output=True, timeout=60)
    r = np.asarray(Image.open(out).convert("RGB").resize((w, h)), dtype=float)
    assert np.mean(np.abs(r - png)) < 12          # same picture (rescaled by the renderer)


def test_unknown_format_still_refused(files, tmp_path):
    s = Session()
    ok(s, f'use "{HSB_DTA}", clear')
    ok(s, "scatter mathach ses in 1/50")
    rc, out = run(s, f'graph export "{tmp_path / "g.xyz"}"')
    assert rc == 198 and "xyz is not a valid graph export format" in out
    assert not os.path.exists(tmp_path / "g.xyz")
