"""Pixel bombs: a web worker's memory stays bounded whatever image it is sent (issue 11).

A flat-colour PNG of 8000×8000 px weighs about 0.25 MB and used to decode into a gigabyte.
Each upload here is checked in a fresh Python process (as a gunicorn worker would handle it)
that reports its peak resident memory. Stated bounds:

- a refused bomb: the worker never grows past BOMB_BOUND_MB (nothing is decoded);
- the largest accepted photo (a 50 Mpx JPEG, a 4096² RGBA PNG): under ACCEPTED_BOUND_MB.
"""

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

from campaign.entries import evidence

BOMB_BOUND_MB = 64
ACCEPTED_BOUND_MB = 256
ROOT = Path(__file__).resolve().parents[2]

# The peak is read from /proc (VmHWM: this process image's own high-water mark), not from
# ru_maxrss, which Linux carries over from the forking parent across exec.
CHECK = """
import json, sys
from campaign.entries import evidence
with open(sys.argv[1], "rb") as stream:
    try:
        prepared = evidence.inspect_file("photo", stream, {"max_count": 20, "max_mb": 20})
        outcome = f"stored {prepared.width}x{prepared.height}"
        prepared.stream.close()
    except evidence.EvidenceRefused as refused:
        outcome = refused.code
status = open("/proc/self/status").read()
peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps({"outcome": outcome, "peak_mb": round(peak)}))
"""


def flat_png(path: Path, width: int, height: int, colour_type: int = 6) -> Path:
    """A valid PNG of one flat colour, written row by row (never whole in memory)."""
    bands = {0: 1, 2: 3, 6: 4}[colour_type]

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x7f" * (width * bands)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


def worker_handles(path: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHECK, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "width, height",
    [(8000, 8000), (5000, 5000), (4097, 4096), (20_000, 20_000)],
)
def test_png_bombs_are_refused_before_decoding(tmp_path, width, height):
    bomb = flat_png(tmp_path / "bomb.png", width, height)
    assert bomb.stat().st_size < 2 * evidence.MB  # it compresses well: that is the attack
    report = worker_handles(bomb)
    print(f"\n{width}x{height} PNG ({bomb.stat().st_size // 1024} KB): {report}")
    assert report["outcome"] == "image_too_large"
    assert report["peak_mb"] < BOMB_BOUND_MB


def test_the_largest_accepted_png_stays_under_the_bound(tmp_path):
    report = worker_handles(flat_png(tmp_path / "big.png", 4096, 4096))
    print(f"\n4096x4096 RGBA PNG: {report}")
    assert report["outcome"] == "stored 4096x4096"
    assert report["peak_mb"] < ACCEPTED_BOUND_MB


def test_the_largest_accepted_jpeg_stays_under_the_bound(tmp_path):
    path = tmp_path / "big.jpg"
    Image.new("RGB", (8660, 5773), "#b03030").save(path, quality=80)  # 49.99 Mpx
    report = worker_handles(path)
    print(f"\n8660x5773 JPEG: {report}")
    assert report["outcome"] == f"stored {evidence.MAX_EDGE}x2731"
    assert report["peak_mb"] < ACCEPTED_BOUND_MB


def test_a_phone_camera_jpeg_decodes_at_half_scale(tmp_path):
    path = tmp_path / "phone.jpg"
    Image.new("RGB", (8160, 6120), "#3070b0").save(path, quality=80)  # a 50 Mpx camera
    report = worker_handles(path)
    print(f"\n8160x6120 JPEG: {report}")
    assert report["outcome"] == "stored 4080x3060"
    assert report["peak_mb"] < ACCEPTED_BOUND_MB


def test_a_jpeg_past_the_cap_is_refused_from_its_header(tmp_path):
    path = tmp_path / "huge.jpg"
    Image.new("L", (8000, 8000), 128).save(path, quality=50)  # 64 Mpx, grey, tiny file
    report = worker_handles(path)
    assert report["outcome"] == "image_too_large"
    assert report["peak_mb"] < BOMB_BOUND_MB
