"""Invisible formatting characters that can make text read other than it is.

Bidirectional controls (Unicode UAX #9: embeddings, overrides, isolates and marks) reorder
what a reader sees ("Trojan Source", CVE-2021-42574): a manufacturer name holding U+202E
shows its tail reversed on the public passport page. Zero-width characters make two
different names look the same. None of them belongs in a battery record: the record
schema refuses them in every text field, and pages show any that an older store still
holds as a visible ``[U+XXXX]`` instead of obeying it.
"""

from __future__ import annotations

import re
from typing import Any

#: U+061C arabic letter mark, U+200E/U+200F left-to-right/right-to-left marks, U+202A to
#: U+202E embeddings and overrides, U+2066 to U+2069 isolates.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
#: U+200B zero width space, U+200C/U+200D zero width (non-)joiner, U+2060 word joiner,
#: U+FEFF zero width no-break space (a byte order mark inside text).
#: Also U+00AD soft hyphen, U+180E Mongolian vowel separator, U+2061 to U+2064 invisible
#: operators and U+E0001, U+E0020 to U+E007F tag characters: format characters that
#: show nothing, so they too made two different names look the same.
ZERO_WIDTH = "\u200b-\u200d\u2060\ufeff\u00ad\u180e\u2061-\u2064\U000e0001\U000e0020-\U000e007f"
INVISIBLE = re.compile(f"[{BIDI_CONTROLS}{ZERO_WIDTH}]")
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def find(text: str) -> tuple[int, str, str] | None:
    """The first invisible formatting character of ``text``.

    :returns: ``(offset, "U+XXXX", kind)`` with kind ``bidirectional control`` or
        ``zero-width character``; ``None`` when there is none.
    """
    found = INVISIBLE.search(text)
    if found is None:
        return None
    char = found.group()
    kind = "bidirectional control" if _BIDI.fullmatch(char) else "zero-width character"
    return found.start(), f"U+{ord(char):04X}", kind


def neutralise(value: Any) -> Any:
    """``value`` with every invisible formatting character in its strings (also inside
    lists and dicts) replaced by a visible ``[U+XXXX]``."""
    if isinstance(value, str):
        return INVISIBLE.sub(lambda m: f"[U+{ord(m.group()):04X}]", value)
    if isinstance(value, list):
        return [neutralise(v) for v in value]
    if isinstance(value, dict):
        return {k: neutralise(v) for k, v in value.items()}
    return value
