"""What an email reply says: whether a machine sent it, its new text, what was attached.

The new text is the reply without the quoted earlier mail and the signature, found by
mail-parser-reply (Dutch and English "Op … schreef:", "On … wrote:", Outlook's "Van:/From:"
blocks, "Met vriendelijke groet", "Sent from my phone"); an HTML-only reply is made text by
html2text first.
"""

from __future__ import annotations

from email.message import EmailMessage

import html2text
from mailparser_reply import EmailReplyParser

# Mail our reply addresses may get from machines; answering any of them could start a loop.
_AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "List-Id")
_PARSER_LANGUAGES = ["nl", "en"]


def automatic_reason(message: EmailMessage, mail_from: str) -> str | None:
    """Why `message` was sent by a machine (a bounce, an out-of-office, a mailing list); None
    when a person wrote it. `mail_from` is the envelope sender (empty for bounces)."""
    if not mail_from.strip().strip("<>"):
        return "bounce (empty MAIL FROM)"
    if message.get_content_type() == "multipart/report":
        return "delivery or read report"
    submitted = str(message.get("Auto-Submitted") or "no").split(";")[0].strip().lower()
    if submitted != "no":
        return f"Auto-Submitted: {submitted}"
    for header in _AUTOREPLY_HEADERS:
        if message.get(header) is not None:
            return f"{header} header"
    precedence = str(message.get("Precedence") or "").strip().lower()
    if precedence in _AUTOMATIC_PRECEDENCE:
        return f"Precedence: {precedence}"
    return None


def new_text(message: EmailMessage) -> str:
    """The text the sender wrote in this reply: the plain text part (else the HTML one as
    text), without the quoted earlier mail and the signature; "" when there is none."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = str(part.get_content())
    except (LookupError, ValueError):  # an unknown charset or a broken encoding
        return ""
    if part.get_content_type() == "text/html":
        text = _html_as_text(text)
    replies = EmailReplyParser(languages=_PARSER_LANGUAGES).read(text).replies
    # The first part is new only when no "On … wrote:" header comes before it: a reply that
    # is nothing but the quoted mail starts with one.
    if not replies or replies[0].headers:
        return ""
    return _without_trailing_quote(replies[0].body)


def attachment_names(message: EmailMessage) -> list[str]:
    """The attachments' file names (or their kinds, when unnamed), which are not kept."""
    return [str(part.get_filename() or part.get_content_type())
            for part in message.walk() if part.is_attachment()]


def _html_as_text(html: str) -> str:
    converter = html2text.HTML2Text()
    converter.ignore_links = converter.ignore_images = converter.ignore_emphasis = True
    converter.body_width = 0  # the message's own lines, not wrapped at 78
    return converter.handle(html)


def _without_trailing_quote(text: str) -> str:
    """Quoted lines ("> …") left at the end are the earlier mail too, and so is the line that
    introduces them when it ends in a colon: the parser knows "Op … schreef:" but not Gmail's
    Dutch "Op … schreef Naam <adres>:" nor Apple Mail's "… het volgende geschreven:"."""
    lines = [line.rstrip() for line in text.splitlines()]
    quoted = False
    while lines and (not lines[-1] or lines[-1].startswith(">")):
        quoted = quoted or bool(lines[-1])
        lines.pop()
    if quoted and lines and lines[-1].endswith(":"):
        lines.pop()
    return "\n".join(lines).strip()
