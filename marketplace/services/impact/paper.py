"""The impact report on paper: the dashboard's own HTML (rendered with `paper`) made into a PDF
by xhtml2pdf, like the transfer document (services/transfers.py).

xhtml2pdf draws no inline <svg>, but it draws an <img> whose source is an SVG (through
svglib, as vector graphics, text included): the page's charts go in as data URIs. Its
built-in fonts have no "₂" (CO₂e), so a TrueType font that has it is embedded when the
system has one (PAPER_FONTS, in order); else Helvetica, and "CO₂e" is written "CO2e".
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

from markupsafe import Markup

# Fonts with the Latin letters, € and ₂ (Debian: fonts-dejavu-core), regular then bold.
PAPER_FONTS = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)
SVG_IMAGE = Markup('<img class="chart" src="data:image/svg+xml;base64,{data}" alt="" '
                   'width="{width}">')
CHART_WIDTH = "16cm"  # the width of the page between its margins


def paper_font() -> tuple[str, str] | None:
    """The regular and bold font files to embed, or None (the PDF's own Helvetica)."""
    for regular, bold in PAPER_FONTS:
        if Path(regular).is_file() and Path(bold).is_file():
            return regular, bold
    return None


def svg_image(svg: Markup) -> Markup:
    """An inline SVG chart as an image xhtml2pdf draws."""
    data = base64.b64encode(str(svg).encode("utf-8")).decode("ascii")
    return SVG_IMAGE.format(data=data, width=CHART_WIDTH)


def html_to_pdf(html: str) -> bytes:
    """The PDF of `html`. Raises RuntimeError when xhtml2pdf reports errors. Nothing is
    fetched from the network, and only the font's folder is read from disk."""
    from xhtml2pdf import pisa  # heavy: loaded when the first report is made
    from xhtml2pdf.config.resources import ResourceAccessPolicy

    font = paper_font()
    if font is None:
        html = html.replace("\u2082", "2")  # Helvetica would leave a blank: "COe"
    policy = ResourceAccessPolicy.server(Path(font[0]).parent if font else None,
                                         allow_remote=False)
    output = io.BytesIO()
    result = pisa.CreatePDF(html, dest=output, encoding="utf-8", resource_policy=policy)
    if result.err:
        raise RuntimeError(f"xhtml2pdf reported {result.err} error(s)")
    return output.getvalue()
