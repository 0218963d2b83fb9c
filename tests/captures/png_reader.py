"""A small, independent PNG reader for the tests (any filter; 8-bit grey, RGB, RGBA, palette)."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


@dataclass
class Png:
    width: int
    height: int
    colour_type: int
    grey: list[int]  # one 0..255 level per pixel, row by row


def chunks(data: bytes):
    """(kind, body) of each chunk, CRCs checked."""
    assert data[:8] == SIGNATURE, "not a PNG signature"
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        yield kind, body
        pos += 12 + length


def ihdr(path: Path) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from the IHDR chunk, the first one."""
    kind, body = next(chunks(path.read_bytes()))
    assert kind == b"IHDR"
    width, height, depth, colour = struct.unpack(">IIBB", body[:10])
    return width, height, depth, colour


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read(path: Path) -> Png:
    data = path.read_bytes()
    width = height = colour = 0
    idat = b""
    palette = b""
    seen = []
    for kind, body in chunks(data):
        seen.append(kind)
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0, "only 8-bit, non-interlaced PNG here"
        elif kind == b"PLTE":
            palette = body
        elif kind == b"IDAT":
            idat += body
    assert seen[0] == b"IHDR" and seen[-1] == b"IEND"
    bpp = CHANNELS[colour]
    stride = width * bpp
    raw = zlib.decompress(idat)
    assert len(raw) == height * (stride + 1), "pixel data of the wrong size"
    previous = bytearray(stride)
    grey: list[int] = []
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                upleft = previous[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, previous[i], upleft)) & 255
        else:
            assert kind == 0, f"unknown filter {kind}"
        previous = line
        if colour == 3:
            rgb = [palette[3 * i : 3 * i + 3] for i in line]
            grey += [(p[0] * 299 + p[1] * 587 + p[2] * 114) // 1000 for p in rgb]
        elif bpp >= 3:
            grey += [
                (line[i] * 299 + line[i + 1] * 587 + line[i + 2] * 114) // 1000
                for i in range(0, stride, bpp)
            ]
        else:
            grey += list(line[::bpp])
    return Png(width, height, colour, grey)
