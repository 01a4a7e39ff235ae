"""Phone-sized photos made at test time: 12-megapixel JPEGs of about 12 MB, as a phone takes them.

Noise over gradients compresses the way a grainy photo does (badly at high quality, well once it
is made smaller), so the originals are large and the browser's resized copies are small. Each
file differs (its own blue channel), so none is a copy of another. Each says, as a phone held
upright does, that it is to be shown turned (EXIF orientation 6). Shared by the browser tests
and bench/posting_phone.py."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

SIZE = (4000, 3000)  # 12 megapixels, landscape, as a phone's main camera
QUALITY = 88  # with 4:4:4 chroma: about 12 MB a photo


def make_phone_photos(folder: Path, count: int, prefix: str = "IMG_") -> list[Path]:
    """`count` distinct 4000x3000 JPEGs of about 12 MB in `folder`, named like a phone's."""
    noise = Image.merge("RGB", [Image.effect_noise(SIZE, 50) for _ in range(3)])
    gradient = Image.linear_gradient("L").resize(SIZE)
    exif = Image.Exif()
    exif[0x0112] = 6  # held upright: shown turned 90° clockwise, 3000 wide and 4000 high
    paths = []
    for index in range(count):
        base = Image.merge("RGB", [gradient, gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
                                   Image.new("L", SIZE, 60 + 25 * index)])
        path = folder / f"{prefix}{4001 + index}.jpg"
        Image.blend(base, noise, 0.45).save(path, "JPEG", quality=QUALITY, subsampling=0,
                                            exif=exif.tobytes())
        paths.append(path)
    return paths
