"""GS1 identifiers: the GTIN with its mod-10 check digit, and GS1 Digital Link URIs
(``https://<domain>/01/{GTIN-14}/21/{serial}``, GS1 Digital Link URI Syntax 1.4).

Checking the GTIN and parsing a Digital Link are ``biip``'s (a maintained library that
implements the GS1 General Specifications' application identifiers and the Digital Link
URI syntax); this module fixes what the gateway uses of it: AI (01) GTIN with AI (21)
serial only, and refusals as :class:`ValueError` with a sentence a problem can carry.
Building ``/01/{gtin}/21/{serial}`` from two checked values is one format string (a test
compares it with ``biip``'s own builder).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

# biip is imported by the functions that use it: loading it costs about 20 MB a process
# (its tables of every application identifier), and most records and requests carry
# no GTIN.

#: The GTIN lengths GS1 issues (GTIN-8, -12, -13, -14); a Digital Link always carries
#: the 14-digit form.
GTIN_LENGTHS = (8, 12, 13, 14)
#: AI (21) serial: 1-20 characters of GS1 AI encodable character set 82.
SERIAL_MAX = 20
_SERIAL = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
#: Longest Digital Link a request may offer for parsing (far above any valid one).
MAX_URI = 300


@dataclass(frozen=True)
class DigitalLink:
    """A GTIN and serial, the two element strings of a battery's Digital Link."""

    gtin: str
    serial: str

    def uri(self, domain: str) -> str:
        """The Digital Link URI of this item under ``domain`` (no path prefix)."""
        return f"https://{domain}{self.path}"

    @property
    def path(self) -> str:
        """``/01/{GTIN-14}/21/{serial}``, the serial percent-encoded as the syntax asks."""
        return f"/01/{self.gtin}/21/{quote(self.serial, safe='')}"


def gtin14(value: str) -> str:
    """A GTIN checked (digits, a GS1 length, its mod-10 check digit), as 14 digits.

    :raises ValueError: not a GTIN, or a wrong check digit.
    """
    if not (value.isascii() and value.isdigit() and len(value) in GTIN_LENGTHS):
        raise ValueError("a GTIN has 8, 12, 13 or 14 digits")
    from biip import ParseError
    from biip.gtin import Gtin

    try:
        Gtin.parse(value)
    except ParseError:
        raise ValueError(f"{value} fails the GS1 mod-10 check digit") from None
    return value.zfill(14)


def check_serial(serial: str) -> str:
    """An AI (21) serial number, checked.

    :raises ValueError: empty, longer than 20, or outside character set 82.
    """
    if not _SERIAL.fullmatch(serial):
        raise ValueError(
            f"a GS1 serial number is 1-{SERIAL_MAX} characters of GS1 character set 82"
        )
    return serial


def digital_link(gtin: str, serial: str) -> DigitalLink:
    """The Digital Link element strings of one item, checked (the GTIN by ``biip``).

    :raises ValueError: a bad GTIN or serial.
    """
    return DigitalLink(gtin14(gtin), check_serial(serial))


def parse_path(path: str) -> DigitalLink:
    """A Digital Link path (``/01/{gtin}/21/{serial}``) read back; a GTIN of fewer
    digits is padded to 14 as the URI syntax allows; query parameters are ignored.

    :raises ValueError: not a GTIN + serial Digital Link, or a bad check digit.
    """
    if len(path) > MAX_URI:
        raise ValueError(f"a Digital Link is at most {MAX_URI} characters here")
    from biip import ParseError
    from biip.gs1_digital_link_uris import GS1DigitalLinkURI

    try:
        parsed = GS1DigitalLinkURI.parse(f"https://id.gs1.org{path}")
    except ParseError as exc:
        raise ValueError(f"not a GS1 Digital Link: {exc}") from None
    gtin = parsed.element_strings.get(ai="01")
    serial = parsed.element_strings.get(ai="21")
    if gtin is None or serial is None or len(parsed.element_strings) != 2:
        raise ValueError("a battery's Digital Link names a GTIN (01) and a serial (21) only")
    if gtin.gtin_error:
        raise ValueError(f"{gtin.value} fails the GS1 mod-10 check digit")
    return DigitalLink(gtin14(gtin.value), serial.value)
