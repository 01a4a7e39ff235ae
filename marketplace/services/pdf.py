"""PDFs made from HTML templates with xhtml2pdf: the transfer-of-ownership document
(services/transfers.py) and the impact report on paper (services/impact/paper.py).

xhtml2pdf's built-in fonts have no "₂" (CO₂e) and no letters beyond Latin-1 (the "ł" of a
Polish name), so a TrueType font that has them is embedded when the system has one
(PAPER_FONTS, in order; Debian: fonts-dejavu-core); else Helvetica, and "₂" is written "2".
Nothing is fetched from the network, and only the font's folder is read from disk.
"""

from __future__ import annotations

import io
from pathlib import Path

# Fonts with the Latin letters, € and ₂, regular then bold.
PAPER_FONTS = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
     "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)


def paper_font() -> tuple[str, str] | None:
    """The regular and bold font files to embed (templates declare them with @font-face, see
    templates/_pdf_font.html), or None (the PDF's own Helvetica)."""
    for regular, bold in PAPER_FONTS:
        if Path(regular).is_file() and Path(bold).is_file():
            return regular, bold
    return None


def html_to_pdf(html: str) -> bytes:
    """The PDF of `html`. Raises RuntimeError when xhtml2pdf reports errors."""
    from xhtml2pdf import pisa  # heavy: loaded when the first PDF is made
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
