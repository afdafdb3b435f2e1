"""Stored text made fit for documents: spreadsheets, PDFs and mail.

Inputs refuse control characters today, but older rows (or rows written by other tools) may
hold them, and one such character must not break an export or a mail for everyone who can
see the record. Documents therefore show such characters as U+FFFD (the replacement
character, "�") rather than failing: XML (xlsx) forbids most C0 controls and the
noncharacters U+FFFE and U+FFFF, mail headers forbid line breaks, and nothing can encode a
lone surrogate. Replacing rather than dropping keeps the damage visible, so it gets fixed.
"""

from __future__ import annotations

import re

#: Unicode control characters (category Cc) except tab, line feed and carriage return; the
#: two noncharacters XML 1.0 forbids; lone surrogates.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\t\r\n]+")
REPLACEMENT = "\ufffd"


def printable(text: str, *, one_line: bool = False) -> str:
    """``text`` with control characters other than tab and line breaks, U+FFFE/U+FFFF and
    lone surrogates shown as U+FFFD; ``one_line`` also turns runs of tabs and line breaks
    into one space (mail headers, file names)."""
    clean = _UNPRINTABLE.sub(REPLACEMENT, text)
    return _LINE_BREAKS.sub(" ", clean) if one_line else clean
