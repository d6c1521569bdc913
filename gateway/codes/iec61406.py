"""IEC 61406-1 identification links for batteries: ``https://<domain>/id/<GB/T 34014 code>``.

IEC 61406-1 asks of an identification link only that it be an HTTPS URL under a domain
the manufacturer (here: the operator) controls, unique per item and never reused; how
the path is built is up to the operator. The gateway embeds the GB/T 34014 code, which
is already unique per battery and known to the national platform, under a fixed ``/id/``
segment the resolver answers. Four lines of string handling: no library is needed.
"""

from __future__ import annotations

import re

#: The path segment the resolver answers identification links under.
PREFIX = "/id/"
_PATH = re.compile(r"/id/([A-Z0-9]{19}|[A-Z0-9]{24})")


def path(code: str) -> str:
    """The path of a battery's identification link."""
    return f"{PREFIX}{code}"


def link(domain: str, code: str) -> str:
    """A battery's identification link under ``domain``."""
    return f"https://{domain}{path(code)}"


def code_of(link_path: str) -> str:
    """The GB/T 34014 code an identification link path embeds.

    :raises ValueError: not a path this module builds.
    """
    match = _PATH.fullmatch(link_path)
    if match is None:
        raise ValueError("an identification link path is /id/ and a GB/T 34014 code")
    return match.group(1)
