"""Whether a PDF declares PDF/A: the ``pdfaid`` entries of its XMP metadata (pure, on bytes).

LibreOffice writes the XMP packet uncompressed, so a byte search finds it; a PDF without it is
not PDF/A, whatever its name says.
"""

from __future__ import annotations

import re

_PART = re.compile(rb"pdfaid:part(?:>|=\")\s*(\d)")
_CONFORMANCE = re.compile(rb"pdfaid:conformance(?:>|=\")\s*([ABUabu])")


def declared_pdfa(data: bytes) -> str | None:
    """``"2B"`` when the PDF's metadata declares PDF/A-2b, None when it declares no PDF/A."""
    part = _PART.search(data)
    if part is None:
        return None
    conformance = _CONFORMANCE.search(data)
    return part.group(1).decode() + (conformance.group(1).decode().upper() if conformance else "")
