"""Hostile uploads, made at test time: bombs, polyglots, truncated files and hostile names.

Nothing big is kept in the repository: each file is built from a few bytes of structure (or from
a small picture of the shared corpus) when a test asks for it, and cached for the session.
`corpus()` lists every case with what the upload form must do with it.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from helpers import SHARED_TESTDATA
from PIL import Image

IMAGES = SHARED_TESTDATA / "images"
SHARED_HOSTILE = IMAGES / "hostile"
UNSUPPORTED = IMAGES / "unsupported"
GOOD_JPEG = IMAGES / "good" / "hopper.jpg"

# The start of each refusal, after the file's name (see services/photos/refusals.py).
EMPTY = "is empty"
NOT_USABLE = "is not a photo we can use"
DAMAGED = "is damaged or incomplete"
TOO_MANY_PIXELS = "has too many pixels"
TOO_LARGE = "is larger than"
# Accepted, re-encoded by Pillow and stored under the content hash only.
ACCEPTED = "accepted"

PHP = b"<?php system($_GET['c']); ?>"
JAVASCRIPT = b"alert(document.cookie)"


@dataclass(frozen=True)
class Hostile:
    """One upload: the name the browser sends (bytes: raw header bytes, not UTF-8), how to make
    its content, and what the form must do with it."""

    id: str
    filename: str | bytes
    make: Callable[[], bytes]
    expect: str  # one of the refusals above, or ACCEPTED
    payload: bytes | None = None  # bytes that no stored file may contain
    claimed_pixels: int = 0  # for bombs: the pixels that decoding it in full would make

    @property
    def content(self) -> bytes:
        return _content(self.make)

    @property
    def shown_name(self) -> str:
        """How the refusal names the file: its last path part, printable, at most 60 chars."""
        name = self.filename if isinstance(self.filename, str) \
            else self.filename.decode("utf-8", "replace")
        name = name.replace("\\", "/").rsplit("/", 1)[-1]
        name = "".join(character for character in name if character.isprintable()).strip()
        return name[:57] + "…" if len(name) > 60 else name


@cache
def _content(make: Callable[[], bytes]) -> bytes:
    return make()


# --- building blocks ----------------------------------------------------------------------------

def _encoded(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


@cache
def small_picture() -> Image.Image:
    with Image.open(GOOD_JPEG) as image:
        return image.convert("RGB")


@cache
def good_jpeg() -> bytes:
    return GOOD_JPEG.read_bytes()


def good_png() -> bytes:
    return _encoded(small_picture(), "PNG")


def good_webp() -> bytes:
    return _encoded(small_picture(), "WEBP", quality=80)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data)))


def png_claiming(width: int, height: int, *, complete: bool = False,
                 colour_type: int = 0, bit_depth: int = 1) -> bytes:
    """A PNG declaring width x height. `complete` compresses every (black) row: a real
    decompression bomb, a small file for a huge image; otherwise only the first row is there."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    row = bytes(1 + (width * channels * bit_depth + 7) // 8)
    compressor = zlib.compressobj(9)
    rows = height if complete else 1
    data = b"".join(compressor.compress(row) for _ in range(rows)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data)
            + _png_chunk(b"IEND", b""))


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) says width x height (at most 65535 each):
    the header promises a huge picture, the data covers 8x8 pixels."""
    data = bytearray(_encoded(Image.new("RGB", (8, 8), (200, 30, 30)), "JPEG"))
    start = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, start + 5, height, width)
    return bytes(data)


def _riff_webp(*chunks: tuple[bytes, bytes]) -> bytes:
    body = b"".join(kind + struct.pack("<I", len(data)) + data + b"\0" * (len(data) % 2)
                    for kind, data in chunks)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def webp_claiming(width: int, height: int) -> bytes:
    """A WebP whose extended header (VP8X, 24-bit sizes) says width x height, over the image of
    a small real lossless WebP. Bigger than 16384 a side is only possible as such a canvas."""
    small = _encoded(Image.new("RGB", (8, 8), (30, 200, 30)), "WEBP", lossless=True)
    assert small[12:16] == b"VP8L"
    bitstream = small[20:20 + struct.unpack("<I", small[16:20])[0]]
    canvas = struct.pack("<I", width - 1)[:3] + struct.pack("<I", height - 1)[:3]
    return _riff_webp((b"VP8X", b"\0\0\0\0" + canvas), (b"VP8L", bitstream))


def webp_lossless_claiming(width: int, height: int) -> bytes:
    """A lossless WebP (VP8L, 14-bit sizes, at most 16384 a side) with almost no image data."""
    bits = (width - 1) | (height - 1) << 14
    header = b"\x2f" + struct.pack("<I", bits)
    return _riff_webp((b"VP8L", header + b"\0" * 16))


def animated_webp() -> bytes:
    frames = [Image.new("RGB", (64, 48), colour) for colour in
              ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    return _encoded(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100,
                    loop=0, lossless=True)


def heic_claiming(width: int, height: int) -> bytes:
    """A real HEIC whose image size property ('ispe') is rewritten to width x height."""
    import pillow_heif

    buffer = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (64, 64), (90, 90, 200))).save(buffer, quality=50)
    data = bytearray(buffer.getvalue())
    start = data.index(b"ispe")
    struct.pack_into(">II", data, start + 8, width, height)  # after version and flags
    return bytes(data)


def truncated(make: Callable[[], bytes], keep: float) -> Callable[[], bytes]:
    def cut() -> bytes:
        data = make()
        return data[: max(1, int(len(data) * keep))]
    cut.__name__ = f"{make.__name__}_cut_{keep}"
    return cut


def with_tail(make: Callable[[], bytes], tail: Callable[[], bytes]) -> Callable[[], bytes]:
    def joined() -> bytes:
        return make() + tail()
    joined.__name__ = f"{make.__name__}_with_{tail.__name__}"
    return joined


def zip_with_php() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("shell.php", PHP)
    return buffer.getvalue()


def jpeg_with_php_in_its_comment_and_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010E] = PHP.decode()  # ImageDescription
    return _encoded(small_picture(), "JPEG", exif=exif.tobytes(), comment=PHP)


def gif_javascript_polyglot() -> bytes:
    """Both a GIF (its width is the bytes "/*") and a script: GIF89a/*…*/=alert(…);"""
    return (b"GIF89a/*\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00"
            b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00"
            b";*/=" + JAVASCRIPT + b";")


def svg_with_script() -> bytes:
    return (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="'
            + JAVASCRIPT + b'"><script>' + JAVASCRIPT + b'</script>'
            b'<rect width="100" height="100" fill="red"/></svg>')


def svg_billion_laughs() -> bytes:
    entities = b"".join(b'<!ENTITY l%d "&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;">'
                        % (level, *[level - 1] * 10) for level in range(1, 10))
    return (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY l0 "lol">' + entities
            + b']><svg xmlns="http://www.w3.org/2000/svg"><text>&l9;</text></svg>')


def html_page() -> bytes:
    return (b"<!DOCTYPE html><html><body><script>" + JAVASCRIPT
            + b"</script><img src=x onerror=alert(1)></body></html>")


def php_script() -> bytes:
    return PHP + b"\n"


def zero_bytes() -> bytes:
    return b""


def jpeg_signature_then_zeros() -> bytes:
    return b"\xff\xd8\xff\xe0" + bytes(15 * 1024 * 1024)  # one byte over 15 MB with the rest


def shared(name: str) -> Callable[[], bytes]:
    path = SHARED_HOSTILE / name if (SHARED_HOSTILE / name).exists() else UNSUPPORTED / name

    def read() -> bytes:
        return path.read_bytes()
    read.__name__ = f"shared_{name}"
    return read


@cache
def _png_bomb_30000() -> bytes:
    return png_claiming(30_000, 30_000, complete=True)


# --- the corpus ---------------------------------------------------------------------------------

# What each file of the shared corpus is refused for (the PHP polyglot is a valid JPEG: it is
# accepted, re-encoded, as its README allows).
SHARED_EXPECTED = {
    "broken.png": DAMAGED,
    "broken_data_stream.png": DAMAGED,
    "decompression_bomb.gif": NOT_USABLE,
    "decompression_bomb.ico": NOT_USABLE,
    "empty.jpg": EMPTY,
    "fake_gif.gif": NOT_USABLE,
    "pil_sample_cmyk.eps": NOT_USABLE,
    "polyglot.php.jpg": ACCEPTED,
    "program.jpg": NOT_USABLE,
    "script.svg": NOT_USABLE,
    "truncated_image.png": DAMAGED,
    "truncated_jpeg.jpg": DAMAGED,
}
SHARED_PAYLOADS = {"polyglot.php.jpg": b"<?php"}

LONG_NAME = "a" * 296 + ".jpg"  # 300 characters
BOMB = 30_000 * 30_000


def shared_corpus() -> list[Hostile]:
    names = sorted(path.name for path in SHARED_HOSTILE.iterdir())
    assert set(names) == set(SHARED_EXPECTED), "the shared corpus changed: say what to expect"
    return [Hostile(f"shared-{name}", name, shared(name), SHARED_EXPECTED[name],
                    payload=SHARED_PAYLOADS.get(name)) for name in names]


def own_corpus() -> list[Hostile]:
    return [
        # Decompression bombs and huge dimensions: refused from the header, never decoded.
        Hostile("png-bomb-30000", "bomb.png", _png_bomb_30000, TOO_MANY_PIXELS,
                claimed_pixels=BOMB),
        Hostile("png-claiming-100k", "huge.png", lambda: png_claiming(100_000, 100_000),
                TOO_MANY_PIXELS, claimed_pixels=100_000 ** 2),
        Hostile("png-rgba-over-our-limit", "wide.png",
                lambda: png_claiming(10_000, 5_001, colour_type=6, bit_depth=8),
                TOO_MANY_PIXELS, claimed_pixels=10_000 * 5_001),
        Hostile("jpeg-claiming-65500", "huge.jpg", lambda: jpeg_claiming(65_500, 65_500),
                TOO_MANY_PIXELS, claimed_pixels=65_500 ** 2),
        Hostile("jpeg-claiming-30000", "bomb.jpg", lambda: jpeg_claiming(30_000, 30_000),
                TOO_MANY_PIXELS, claimed_pixels=BOMB),
        Hostile("jpeg-over-our-limit", "wide.jpg", lambda: jpeg_claiming(8_000, 7_000),
                TOO_MANY_PIXELS, claimed_pixels=8_000 * 7_000),
        Hostile("webp-canvas-100k", "huge.webp", lambda: webp_claiming(100_000, 100_000),
                TOO_MANY_PIXELS, claimed_pixels=100_000 ** 2),
        Hostile("webp-canvas-30000", "bomb.webp", lambda: webp_claiming(30_000, 30_000),
                TOO_MANY_PIXELS, claimed_pixels=BOMB),
        Hostile("webp-lossless-16384", "wide.webp", lambda: webp_lossless_claiming(16_384, 16_384),
                TOO_MANY_PIXELS, claimed_pixels=16_384 ** 2),
        Hostile("heic-claiming-30000", "bomb.heic", lambda: heic_claiming(30_000, 30_000),
                TOO_MANY_PIXELS, claimed_pixels=BOMB),
        # Under the pixel limit, but the data stops after the header: damaged.
        # (Pillow took both as complete pictures, black or grey below the first row: seconds of
        # work and up to 260 MB for a file of a few hundred bytes.)
        Hostile("jpeg-header-only-7000", "IMG_4000.jpg", lambda: jpeg_claiming(7_000, 7_000),
                DAMAGED, claimed_pixels=7_000 * 7_000),
        Hostile("png-header-only-7000", "IMG_4001.png",
                lambda: png_claiming(7_000, 7_000, colour_type=6, bit_depth=8), DAMAGED,
                claimed_pixels=7_000 * 7_000),
        # Truncated and empty files.
        Hostile("jpeg-cut-in-half", "IMG_4002.jpg", truncated(good_jpeg, 0.5), DAMAGED),
        Hostile("jpeg-signature-only", "IMG_4003.jpg", truncated(good_jpeg, 0.001), DAMAGED),
        Hostile("png-cut-in-half", "IMG_4004.png", truncated(good_png, 0.5), DAMAGED),
        Hostile("webp-cut-in-half", "IMG_4005.webp", truncated(good_webp, 0.5), DAMAGED),
        Hostile("heic-cut-in-half", "IMG_4006.heic",
                truncated(lambda: heic_claiming(64, 64), 0.5), DAMAGED),
        Hostile("empty-png", "empty.png", zero_bytes, EMPTY),
        Hostile("empty-webp", "empty.webp", zero_bytes, EMPTY),
        Hostile("over-15-mb", "big.jpg", jpeg_signature_then_zeros, TOO_LARGE),
        # Not images, whatever their names say.
        Hostile("svg-with-script", "drawing.svg", svg_with_script, NOT_USABLE),
        Hostile("svg-billion-laughs", "laughs.svg", svg_billion_laughs, NOT_USABLE),
        Hostile("html-named-jpg", "photo.jpg", html_page, NOT_USABLE),
        Hostile("php-named-jpg-php", "x.jpg.php", php_script, NOT_USABLE),
        Hostile("php-named-jpg", "shell.php.jpg", php_script, NOT_USABLE),
        Hostile("gif-javascript-polyglot", "pixel.gif", gif_javascript_polyglot, NOT_USABLE),
        Hostile("zip-named-png", "photos.png", zip_with_php, NOT_USABLE),
        # Formats we do not accept.
        Hostile("tiff", "hopper.tif", shared("hopper.tif"), NOT_USABLE),
        Hostile("bmp", "hopper.bmp", shared("hopper.bmp"), NOT_USABLE),
        Hostile("gif", "hopper.gif", shared("hopper.gif"), NOT_USABLE),
        Hostile("psd", "hopper.psd", shared("hopper.psd"), NOT_USABLE),
        # Valid pictures carrying a payload: accepted, re-encoded, the payload gone.
        Hostile("png-with-appended-zip", "holiday.png", with_tail(good_png, zip_with_php),
                ACCEPTED, payload=b"shell.php"),
        Hostile("jpeg-with-php-in-comment-and-exif", "comment.jpg",
                jpeg_with_php_in_its_comment_and_exif, ACCEPTED, payload=b"<?php"),
        Hostile("jpeg-with-appended-html", "appended.jpg", with_tail(good_jpeg, html_page),
                ACCEPTED, payload=b"<script>"),
        # Animated: the first frame is kept as a still picture.
        Hostile("animated-webp", "moving.webp", animated_webp, ACCEPTED),
    ]


# Hostile names: with a real picture they are accepted and stored under the content hash only;
# with hostile content they are refused, named by their last path part.
HOSTILE_NAMES: dict[str, str | bytes] = {
    "php-extension": "x.jpg.php",
    "dot-dot-slash": "../../../../tmp/evil.jpg",
    "dot-dot-backslash": "..\\..\\..\\windows\\win.ini.jpg",
    "absolute-path": "/etc/cron.d/evil.jpg",
    "windows-absolute-path": "C:\\Windows\\System32\\evil.jpg",
    "nul-in-name": "evil.php\x00.jpg",
    "300-characters": LONG_NAME,
    "control-characters": "evil\r\nContent-Type: text/html\t.jpg",
    "only-dots": "..",
}
# How a refusal names each: the last part of the path, printable, at most 60 characters.
HOSTILE_NAMES_SHOWN: dict[str, str] = {
    "php-extension": "x.jpg.php",
    "dot-dot-slash": "evil.jpg",
    "dot-dot-backslash": "win.ini.jpg",
    "absolute-path": "evil.jpg",
    "windows-absolute-path": "evil.jpg",
    "nul-in-name": "evil.php.jpg",
    "300-characters": "a" * 57 + "…",
    "control-characters": "html.jpg",
    "only-dots": "..",
}
# The filename parameter of the multipart header as raw bytes, not UTF-8. Quoted, werkzeug cannot
# read the form at all; percent-encoded (RFC 5987), the bytes become replacement characters.
NON_UTF8_NAMES: dict[str, bytes] = {
    "latin-1-name": b'filename="caf\xe9.jpg"',
    "invalid-utf8-name": b'filename="\xff\xfe evil.jpg"',
    "percent-encoded-invalid-utf8": b"filename*=UTF-8''%FF%FE%00evil.jpg",
}


def good_picture_named(filename: str | bytes) -> Hostile:
    return Hostile(f"good-as-{filename!r}", filename, good_jpeg, ACCEPTED)


def hostile_content_named(filename: str | bytes) -> Hostile:
    return Hostile(f"script-as-{filename!r}", filename, html_page, NOT_USABLE)


def corpus() -> list[Hostile]:
    return shared_corpus() + own_corpus()

