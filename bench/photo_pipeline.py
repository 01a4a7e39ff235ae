"""Benchmark of the photo pipeline on a 12-megapixel phone JPEG.

    .venv/bin/python bench/photo_pipeline.py [--runs N]

Makes a 4000x3000 JPEG in memory (gradients and grain, so it compresses like a photo: about
3.3 MB at quality 90, with EXIF orientation 6 as a phone held upright writes it), then times
over N runs (median and 95th percentile):

- pipeline: `prepare_photo`, in an app context (TESTING, temporary folders): hash, decode at
  reduced scale (draft), reduce/resample, turn upright, encode the three variants;
- decode everything: `Image.open`, `load()` at full size, turn upright, a LANCZOS `resize` from
  the full image to each variant's size and the same encoders and settings.

Peak memory is measured two ways: tracemalloc's peak (Python allocations only: it does not see
Pillow's pixel buffers, which are allocated in C) and, for each path, the peak resident memory
of a fresh subprocess that runs it three times, minus that of a subprocess doing everything but
the path (interpreter, Flask app, the JPEG bytes). The peak is VmHWM from /proc/self/status:
on Linux, ru_maxrss of a subprocess also carries the parent's peak across exec, which hides
anything smaller; ru_maxrss is used only where /proc is missing.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageChops, ImageFilter, ImageOps

from marketplace import create_app
from marketplace.services.photos import SAVE_OPTIONS, VARIANTS, prepare_photo

SIZE = (4000, 3000)
GOAL_MS = 100
GOAL_SPEEDUP = 3
GOAL_MB = 150


def make_phone_jpeg() -> bytes:
    """A 4000x3000 JPEG: blended gradients under blurred grain, quality 90, orientation 6."""
    horizontal = Image.linear_gradient("L").rotate(90).resize(SIZE)
    radial = Image.radial_gradient("L").resize(SIZE)
    bases = [(horizontal, radial), (radial, horizontal), (ImageChops.invert(horizontal), radial)]
    channels = []
    for index, (first, second) in enumerate(bases):
        grain = Image.effect_noise(SIZE, 60).filter(ImageFilter.GaussianBlur(0.7))
        channels.append(Image.blend(Image.blend(first, second, 0.3 + 0.2 * index), grain, 0.35))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to show
    exif[0x010F] = "Benchmark phone"
    buffer = io.BytesIO()
    Image.merge("RGB", channels).save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def make_app(folder: str):
    os.environ["INSTANCE_PATH"] = os.path.join(folder, "instance")
    return create_app({
        "TESTING": True,
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite",
        "UPLOAD_FOLDER": os.path.join(folder, "uploads"),
        "MAIL_FOLDER": os.path.join(folder, "mail"),
    })


def fit(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def decode_everything(data: bytes) -> dict[str, bytes]:
    """The straightforward way: full decode, then resample each variant from the full image."""
    files = {}
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        upright = ImageOps.exif_transpose(image)
        for variant, (max_side, extension) in VARIANTS.items():
            image_format, options = SAVE_OPTIONS[extension]
            resized = upright.resize(fit(upright.size, max_side), Image.Resampling.LANCZOS)
            buffer = io.BytesIO()
            resized.save(buffer, image_format, **options)
            files[variant] = buffer.getvalue()
    return files


def pipeline(data: bytes) -> dict[str, bytes]:
    return prepare_photo(data, "IMG_0001.JPG").files


PATHS: dict[str, Callable[[bytes], dict[str, bytes]]] = {
    "pipeline": pipeline,
    "decode everything": decode_everything,
}


def timings(path: Callable[[bytes], object], data: bytes, runs: int) -> list[float]:
    path(data)  # warm up: imports, codec initialisation
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        path(data)
        times.append((time.perf_counter() - started) * 1000)
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]  # nearest rank


def tracemalloc_peak_mb(path: Callable[[bytes], object], data: bytes) -> float:
    tracemalloc.start()
    try:
        path(data)
        return tracemalloc.get_traced_memory()[1] / 1024 / 1024
    finally:
        tracemalloc.stop()


def peak_rss_mb(which: str, jpeg_file: str) -> float:
    """Peak RSS of a fresh interpreter that runs `which` ("baseline": nothing) three times."""
    output = subprocess.run(  # noqa: S603  (our own script, run with our own interpreter)
        [sys.executable, __file__, "--rss-of", which, "--jpeg", jpeg_file],
        check=True, capture_output=True, text=True).stdout
    return json.loads(output)["peak_kb"] / 1024


def own_peak_kb() -> int:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1])


def rss_child(which: str, jpeg_file: str) -> None:
    data = Path(jpeg_file).read_bytes()
    with tempfile.TemporaryDirectory() as folder, make_app(folder).app_context():
        if which != "baseline":
            for _ in range(3):
                PATHS[which](data)
        print(json.dumps({"peak_kb": own_peak_kb()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rss-of", choices=["baseline", *PATHS], help=argparse.SUPPRESS)
    parser.add_argument("--jpeg", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.rss_of:
        rss_child(arguments.rss_of, arguments.jpeg)
        return

    data = make_phone_jpeg()
    print(f"12 MP JPEG: {SIZE[0]}x{SIZE[1]}, {len(data) / 1e6:.2f} MB, EXIF orientation 6; "
          f"{arguments.runs} runs, {os.cpu_count()} CPUs, Pillow {Image.__version__}")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        with make_app(folder).app_context():
            for name, path in PATHS.items():
                times = timings(path, data, arguments.runs)
                sizes = {variant: len(file) for variant, file in path(data).items()}
                results[name] = {"median": statistics.median(times), "p95": p95(times),
                                 "traced": tracemalloc_peak_mb(path, data), "sizes": sizes}
        jpeg_file = os.path.join(folder, "phone.jpg")
        Path(jpeg_file).write_bytes(data)
        baseline = peak_rss_mb("baseline", jpeg_file)
        for name in PATHS:
            results[name]["rss"] = peak_rss_mb(name, jpeg_file) - baseline

    print(f"{'':18} {'median':>9} {'p95':>9} {'tracemalloc':>12} {'peak RSS':>11}  bytes")
    for name, result in results.items():
        sizes = ", ".join(f"{variant} {size / 1000:.0f} kB"
                          for variant, size in result["sizes"].items())
        print(f"{name:18} {result['median']:7.1f}ms {result['p95']:7.1f}ms "
              f"{result['traced']:9.1f} MB {result['rss']:8.1f} MB  {sizes}")
    print(f"(peak RSS is above that of a process doing everything else: {baseline:.1f} MB)")
    pipeline_ms = results["pipeline"]["median"]
    speedup = results["decode everything"]["median"] / pipeline_ms
    peak = baseline + results["pipeline"]["rss"]
    print(f"goal: pipeline under {GOAL_MS} ms: {pipeline_ms:.1f} ms "
          f"{'met' if pipeline_ms < GOAL_MS else 'MISSED'}")
    print(f"goal: {GOAL_SPEEDUP}x faster than decode everything: {speedup:.1f}x "
          f"{'met' if speedup >= GOAL_SPEEDUP else 'MISSED'}")
    print(f"goal: peak memory under {GOAL_MB} MB: {results['pipeline']['rss']:.1f} MB for the "
          f"photo, {peak:.1f} MB for the whole process "
          f"{'met' if results['pipeline']['rss'] < GOAL_MB else 'MISSED'}")


if __name__ == "__main__":
    main()
