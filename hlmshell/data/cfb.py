"""The OLE2 Compound File Binary container (MS-CFB, version 3, 512-byte sectors), the wrapper
of legacy Excel .xls files: read one named stream out of it, or write a container holding one
stream.

Why hand-written: Python's standard library has no reader for it, and the packages that do
(olefile, xlrd) are either unmaintained or read-only. The part .xls needs is small: the header,
the FAT (and DIFAT for big files), the directory and, when reading, the mini stream that holds
streams under 4,096 bytes.
"""
from __future__ import annotations

import struct

SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FREESECT, ENDOFCHAIN, FATSECT, DIFSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFC
NOSTREAM = 0xFFFFFFFF
MINI_CUTOFF = 4096


class CfbError(ValueError):
    """The bytes are not a well-formed compound file (or lack the stream asked for)."""


def is_cfb(head: bytes) -> bool:
    return head[:8] == SIGNATURE


# ----------------------------------------------------------------------------- reading
class _Reader:
    def __init__(self, data: bytes):
        if len(data) < 512 or not is_cfb(data):
            raise CfbError("not a compound file")
        self.data = data
        (self.ssz_shift, self.mini_shift) = struct.unpack_from("<HH", data, 0x1E)
        self.ssz = 1 << self.ssz_shift
        self.mini = 1 << self.mini_shift
        if self.ssz not in (512, 4096) or self.mini != 64:
            raise CfbError("unsupported sector size")
        n_fat, self.dir_start = struct.unpack_from("<II", data, 0x2C)
        self.cutoff, self.minifat_start, self.n_minifat, difat_start, n_difat = \
            struct.unpack_from("<IIIII", data, 0x38)
        fat_ids = [x for x in struct.unpack_from("<109I", data, 0x4C) if x != FREESECT]
        sect, seen = difat_start, 0
        while sect not in (ENDOFCHAIN, FREESECT) and seen < n_difat:
            ids = struct.unpack_from(f"<{self.ssz // 4}I", self._sector(sect))
            fat_ids += [x for x in ids[:-1] if x != FREESECT]
            sect, seen = ids[-1], seen + 1
        fat = bytearray()
        for s in fat_ids[:n_fat]:
            fat += self._sector(s)
        self.fat = struct.unpack(f"<{len(fat) // 4}I", bytes(fat))

    def _sector(self, i: int) -> bytes:
        off = (i + 1) * self.ssz
        if off + self.ssz > len(self.data) + self.ssz:       # a short last sector is tolerated
            raise CfbError("sector out of range")
        return self.data[off:off + self.ssz]

    def _chain(self, start: int, table, limit: int) -> list[int]:
        out, s = [], start
        while s not in (ENDOFCHAIN, FREESECT):
            if s >= len(table) or len(out) > limit:
                raise CfbError("broken sector chain")
            out.append(s)
            s = table[s]
        return out

    def _stream(self, start: int) -> bytes:
        limit = len(self.data) // self.ssz + 1
        return b"".join(self._sector(s) for s in self._chain(start, self.fat, limit))

    def entries(self) -> list[tuple[str, int, int, int]]:
        """(name, type, start sector, size) of every directory entry."""
        raw = self._stream(self.dir_start)
        out = []
        for off in range(0, len(raw) - 127, 128):
            nlen = struct.unpack_from("<H", raw, off + 64)[0]
            name = raw[off:off + max(0, nlen - 2)].decode("utf-16-le", "replace")
            etype = raw[off + 66]
            start, size = struct.unpack_from("<II", raw, off + 116)
            out.append((name, etype, start, size))
        return out

    def read(self, names: tuple[str, ...]) -> bytes:
        entries = self.entries()
        if not entries:
            raise CfbError("empty directory")
        root = entries[0]
        for name, etype, start, size in entries:
            if etype == 2 and name in names:
                if size < self.cutoff:
                    return self._mini(root, start, size)
                return self._stream(start)[:size]
        raise CfbError("stream not found")

    def _mini(self, root, start: int, size: int) -> bytes:
        ministream = self._stream(root[2])
        minifat_raw = self._stream(self.minifat_start) if self.n_minifat else b""
        minifat = struct.unpack(f"<{len(minifat_raw) // 4}I", minifat_raw)
        chain = self._chain(start, minifat, len(ministream) // self.mini + 1)
        buf = b"".join(ministream[s * self.mini:(s + 1) * self.mini] for s in chain)
        return buf[:size]


def read_stream(data: bytes, names: tuple[str, ...]) -> bytes:
    """The first stream among `names` in the compound file `data` (CfbError if none)."""
    try:
        return _Reader(data).read(names)
    except struct.error as exc:
        raise CfbError(f"truncated compound file ({exc})") from None


# ----------------------------------------------------------------------------- writing
def _dir_entry(name: str, etype: int, child: int, start: int, size: int) -> bytes:
    enc = name.encode("utf-16-le") + b"\x00\x00" if name else b""
    head = enc.ljust(64, b"\x00") + struct.pack("<HBB", len(enc), etype, 1 if etype else 0)
    links = struct.pack("<III", NOSTREAM, NOSTREAM, child)
    return head + links + bytes(16 + 4 + 16) + struct.pack("<II", start, size) + bytes(4)


def _layout(n_stream: int) -> tuple[int, int]:
    """(FAT sectors, DIFAT sectors) for a file of n_stream stream sectors and one directory
    sector: the FAT must also map its own sectors and the DIFAT's."""
    n_fat = n_difat = 0
    while True:
        need_fat = -(-(n_stream + 1 + n_fat + n_difat) // 128)
        need_difat = -(-max(0, need_fat - 109) // 127)
        if (need_fat, need_difat) == (n_fat, n_difat):
            return n_fat, n_difat
        n_fat, n_difat = need_fat, need_difat


def write_single_stream(name: str, payload: bytes) -> bytes:
    """A compound file holding the one stream `name` (padded to the 4,096 bytes under which a
    stream would have to live in the mini stream)."""
    body = payload.ljust(MINI_CUTOFF, b"\x00")
    body += b"\x00" * (-len(body) % 512)
    n_stream = len(body) // 512
    n_fat, n_difat = _layout(n_stream)
    # sectors: [FAT][DIFAT][directory][stream]
    fat_ids = list(range(n_fat))
    difat_ids = list(range(n_fat, n_fat + n_difat))
    dir_id = n_fat + n_difat
    first = dir_id + 1
    total = first + n_stream
    fat = [FREESECT] * (n_fat * 128)
    for i in fat_ids:
        fat[i] = FATSECT
    for i in difat_ids:
        fat[i] = DIFSECT
    fat[dir_id] = ENDOFCHAIN
    for i in range(first, total - 1):
        fat[i] = i + 1
    fat[total - 1] = ENDOFCHAIN
    head_ids = fat_ids[:109] + [FREESECT] * (109 - min(109, n_fat))
    header = (SIGNATURE + bytes(16) + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIIII", 0, n_fat, dir_id, 0, MINI_CUTOFF, ENDOFCHAIN, 0,
                            difat_ids[0] if difat_ids else ENDOFCHAIN, n_difat)
              + struct.pack("<109I", *head_ids))
    difat = bytearray()
    rest = fat_ids[109:]
    for k in range(n_difat):
        ids = rest[k * 127:(k + 1) * 127]
        ids = ids + [FREESECT] * (127 - len(ids))
        nxt = difat_ids[k + 1] if k + 1 < n_difat else ENDOFCHAIN
        difat += struct.pack("<128I", *ids, nxt)
    directory = (_dir_entry("Root Entry", 5, 1, ENDOFCHAIN, 0)
                 + _dir_entry(name, 2, NOSTREAM, first, len(body))
                 + _dir_entry("", 0, NOSTREAM, 0, 0) * 2)
    return (header + struct.pack(f"<{len(fat)}I", *fat) + bytes(difat) + directory + body)
