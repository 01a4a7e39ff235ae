"""The impact report on paper: the dashboard's own HTML (rendered with `paper`) made into a PDF
by services/pdf.py, like the transfer document (services/transfers.py).

xhtml2pdf draws no inline <svg>, but it draws an <img> whose source is an SVG (through
svglib, as vector graphics, text included): the page's charts go in as data URIs.
"""

from __future__ import annotations

import base64

from markupsafe import Markup

from ..pdf import html_to_pdf, paper_font

__all__ = ["html_to_pdf", "paper_font", "svg_image"]

SVG_IMAGE = Markup('<img class="chart" src="data:image/svg+xml;base64,{data}" alt="" '
                   'width="{width}">')
CHART_WIDTH = "16cm"  # the width of the page between its margins


def svg_image(svg: Markup) -> Markup:
    """An inline SVG chart as an image xhtml2pdf draws."""
    data = base64.b64encode(str(svg).encode("utf-8")).decode("ascii")
    return SVG_IMAGE.format(data=data, width=CHART_WIDTH)
