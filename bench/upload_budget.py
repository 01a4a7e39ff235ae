"""Benchmark of what one listing form's photos may cost to decode (issue 14, item 7).

    .venv/bin/python bench/upload_budget.py [--runs N] [--no-heic] [--budget MB]

Each case is one form's uploads, handled by the listing service's photo step
(`services.listings._prepare_uploads`: cost from the headers, the budget, then decoding and
the variants) in a fresh subprocess with the app's default settings, N times (default 3). Printed:
the outcome (accepted or refused), the median time, and the peak resident memory above the
subprocess's own baseline (VmHWM from /proc/self/status, reset with /proc/self/clear_refs,
minus the resident size after the app was made and the files read: what a gunicorn worker
would need on top of what it already holds).

The cases are the worst a form can be within the budget (PHOTO_DECODE_BUDGET_MB): one PNG of
each costly kind as large as the budget allows (PNGs of one colour: small files, the whole
decode; at most PHOTO_MAX_BYTES each), eight PNGs sharing the budget, eight 12 MP phone JPEGs
and as many 12 MP HEIC photos as fit; then the issue's files, refused; and the same files
decoded with the budget lifted (PHOTO_DECODE_BUDGET_MB=100000), for comparison.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PIL import Image

from marketplace.services import photos

GOAL_SECONDS = 2.0
GOAL_MB = 300
MB = 1024 * 1024
BUDGET = photos.DEFAULT_DECODE_BUDGET_MB * MB


def png(width: int, height: int, colour_type: int = 2, bit_depth: int = 8) -> bytes:
    """A PNG of one colour with every row compressed: a small file, a whole decode."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    row = bytes(1 + (width * channels * bit_depth + 7) // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) \
        + chunk(b"IEND", b"")


def side_for(bytes_per_pixel: int, share: float = 1.0) -> int:
    """The side of the largest square picture that costs at most `share` of the budget."""
    return min(7071, math.isqrt(int(BUDGET * share) // bytes_per_pixel))


def phone_jpeg() -> bytes:
    from photo_pipeline import make_phone_jpeg

    return make_phone_jpeg()


def heic_12mp() -> bytes:
    """A 4032x3024 HEIC (gradients and light grain), as an iPhone takes them."""
    horizontal = Image.linear_gradient("L").rotate(90).resize((4032, 3024))
    radial = Image.radial_gradient("L").resize((4032, 3024))
    grain = Image.effect_noise((4032, 3024), 20)
    image = Image.merge("RGB", (horizontal, radial, Image.blend(horizontal, grain, 0.3)))
    buffer = io.BytesIO()
    image.save(buffer, "HEIF", quality=70)
    return buffer.getvalue()


def variants(data: bytes, count: int) -> list[bytes]:
    """`count` different files of the same picture (bytes after the end are ignored)."""
    return [data + bytes(number) for number in range(count)]


def cases(heic: bool) -> dict[str, tuple[list[tuple[str, bytes]], dict[str, int]]]:
    lifted = {"PHOTO_DECODE_BUDGET_MB": 100_000}
    budget = {"PHOTO_DECODE_BUDGET_MB": BUDGET // MB}
    rgb, grey16 = side_for(7), side_for(9)
    rgba, eighth = side_for(12), side_for(7, 1 / 8)
    grey = 7071  # 50 MP, the pixel limit: 150 MB at 3 bytes a pixel
    jpeg = phone_jpeg()
    found: dict[str, tuple[list[tuple[str, bytes]], dict[str, int]]] = {
        f"accepted? RGB PNG {rgb}x{rgb}": ([("rgb.png", png(rgb, rgb))], {}),
        f"accepted? 16-bit grey PNG {grey16}x{grey16}":
            ([("grey16.png", png(grey16, grey16, 0, 16))], {}),
        f"accepted? RGBA PNG {rgba}x{rgba}": ([("rgba.png", png(rgba, rgba, 6))], {}),
        f"accepted? grey PNG {grey}x{grey}": ([("grey.png", png(grey, grey, 0))], {}),
        f"accepted? 8 RGB PNGs {eighth}x{eighth}":
            ([(f"rgb-{n}.png", data) for n, data in enumerate(variants(png(eighth, eighth), 8))],
             {}),
        "accepted? 8 phone JPEGs 4000x3000":
            ([(f"IMG_{n}.JPG", data) for n, data in enumerate(variants(jpeg, 8))], {}),
    }
    if heic:
        count = max(1, BUDGET // (4032 * 3024 * 7 * photos.HEIF_COST_FACTOR))
        found[f"accepted? {count} HEIC 4032x3024"] = (
            [(f"IMG_{n}.HEIC", data) for n, data in enumerate(variants(heic_12mp(), count))], {})
    issue_rgb, issue_grey16 = png(7000, 7000), png(7000, 7000, 0, 16)
    found.update({
        "issue: 8 RGB PNGs 7000x7000": (
            [(f"plan-{n}.png", data) for n, data in enumerate(variants(issue_rgb, 8))], {}),
        "issue: 16-bit grey PNG 7000x7000": ([("scan.png", issue_grey16)], {}),
        "budget lifted: RGB PNG 7000x7000": ([("plan.png", issue_rgb)], lifted),
        "budget lifted: 16-bit grey PNG 7000x7000": ([("scan.png", issue_grey16)], lifted),
    })
    return {name: (files, settings or budget) for name, (files, settings) in found.items()}


# --- the subprocess ---------------------------------------------------------------------------

def status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def child(folder: str, settings: dict[str, int]) -> None:
    from marketplace import create_app
    from marketplace.services.errors import DomainError
    from marketplace.services.listings import Upload, _prepare_uploads

    uploads = [Upload(filename=path.name.split("__", 1)[1], data=path.read_bytes())
               for path in sorted(Path(folder, "files").iterdir())]
    os.environ["INSTANCE_PATH"] = os.path.join(folder, "instance")
    app = create_app({"TESTING": True, "SECRET_KEY": "bench",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
                      "UPLOAD_FOLDER": os.path.join(folder, "uploads"),
                      "MAIL_FOLDER": os.path.join(folder, "mail"), **settings})
    with app.test_request_context():
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # the peak starts afresh from here
        baseline = status_kb("VmRSS")
        started = time.perf_counter()
        try:
            _prepare_uploads(uploads)
            outcome = "accepted"
        except DomainError as error:
            outcome = f"refused ({error.status_code})"
        seconds = time.perf_counter() - started
        print(json.dumps({"seconds": seconds, "peak_mb": (status_kb("VmHWM") - baseline) / 1024,
                          "outcome": outcome}))


def run_case(files: list[tuple[str, bytes]], settings: dict[str, int], runs: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "files").mkdir()
        for number, (name, data) in enumerate(files):
            Path(folder, "files", f"{number:02d}__{name}").write_bytes(data)
        results = []
        for _ in range(runs):
            output = subprocess.run(  # noqa: S603  (our own script, our own interpreter)
                [sys.executable, __file__, "--child", folder, "--settings", json.dumps(settings)],
                check=True, capture_output=True, text=True).stdout
            results.append(json.loads(output.strip().splitlines()[-1]))
    return {"seconds": statistics.median(result["seconds"] for result in results),
            "peak_mb": max(result["peak_mb"] for result in results),
            "outcome": results[0]["outcome"],
            "file_kb": sum(len(data) for _name, data in files) / 1024}


def main() -> None:
    global BUDGET
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-heic", action="store_true", help="leave out the HEIC case "
                        "(making its file takes a while)")
    parser.add_argument("--budget", type=int, default=photos.DEFAULT_DECODE_BUDGET_MB,
                        help="PHOTO_DECODE_BUDGET_MB to measure (default: the default)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--settings", default="{}", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child, json.loads(arguments.settings))
        return
    BUDGET = arguments.budget * MB
    print(f"budget {arguments.budget} MB a form; {arguments.runs} runs a case, "
          f"{os.cpu_count()} CPUs, Pillow {Image.__version__}")
    print(f"{'case':44} {'files':>9} {'outcome':>14} {'median':>8} {'peak above baseline':>20}")
    worst_seconds = worst_mb = 0.0
    for name, (files, settings) in cases(not arguments.no_heic).items():
        result = run_case(files, settings, arguments.runs)
        print(f"{name:44} {result['file_kb']:7.0f}kB {result['outcome']:>14} "
              f"{result['seconds']:7.2f}s {result['peak_mb']:17.0f} MB", flush=True)
        if result["outcome"] == "accepted" and "lifted" not in name:
            worst_seconds = max(worst_seconds, result["seconds"])
            worst_mb = max(worst_mb, result["peak_mb"])
    print(f"goal: worst accepted form under {GOAL_SECONDS:.0f} s: {worst_seconds:.2f} s "
          f"{'met' if worst_seconds < GOAL_SECONDS else 'MISSED'}")
    print(f"goal: worst accepted form under {GOAL_MB} MB above the baseline: {worst_mb:.0f} MB "
          f"{'met' if worst_mb < GOAL_MB else 'MISSED'}")


if __name__ == "__main__":
    main()
