"""Shields-style flat SVG badges: a grey label on the left, a green message on the right."""

from __future__ import annotations

from markupsafe import escape

HEIGHT = 20
PADDING = 10
FONT = "Verdana,Geneva,DejaVu Sans,sans-serif"


def text_width(text: str) -> int:
    """Approximate width in pixels of ``text`` in 11px Verdana; ``textLength`` makes it exact."""
    # Verdana 11px: capitals and digits are about 7px wide, punctuation and spaces about 4px.
    return round(sum(7.5 if c.isupper() else 7 if c.isalnum() else 4 for c in text))


def _text(x: float, content: str, width: int) -> str:
    # The dark copy one pixel lower is the shadow shields-style badges draw under their text.
    attrs = f'x="{x}" textLength="{width}" lengthAdjust="spacingAndGlyphs"'
    return (
        f'<text {attrs} y="15" fill="#010101" fill-opacity=".3">{content}</text>'
        f'<text {attrs} y="14">{content}</text>'
    )


def render(label: str, message: str, color: str = "#4c1") -> str:
    """An SVG badge ``label | message``; both are XML-escaped."""
    label_text, message_text = escape(label), escape(message)
    label_width, message_width = text_width(label), text_width(message)
    left, right = label_width + PADDING, message_width + PADDING
    total = left + right
    title = escape(f"{label}: {message}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{HEIGHT}" role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="{HEIGHT}" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="{HEIGHT}" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="{HEIGHT}" fill="{escape(color)}"/>'
        f'<rect width="{total}" height="{HEIGHT}" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" font-family="{FONT}" font-size="11">'
        f"{_text(left / 2, label_text, label_width)}{_text(left + right / 2, message_text, message_width)}"
        "</g></svg>"
    )
