"""Error messages about fields that must not leave China never quote their values.

A record refused for a bad VIN or a malformed location time must not hand the VIN or
the location back in the 422 body, the CLI output or a log: the cross-border policy
(``gateway/policy/tables``) withholds those fields, and an error message is an export
too. A problem about such a field keeps its pointer (which field) and its rule (what is
wrong), with the value replaced by words.

Which fields: every record path the shipped policy does not classify ``export``
(``withhold`` and ``aggregate_only``, and anything unclassified, which the policy
withholds by default).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from gateway import jsonpointer
from gateway.policy.table import load_policy

#: What stands in a message where a withheld value was.
HIDDEN = "the value"
#: Added to every message whose value was taken out, so a reader knows why.
NOTE = " (value not shown: the cross-border policy withholds this field)"
# Unquoted, only values that could not be the rule's own words are searched for: at
# least 4 characters with a digit (VINs, phone numbers, times, coordinates), never words
# such as "true" or "Infinity". Quoted forms are always taken out.
_MIN_SEARCH = 4
_INDEX = re.compile(r"[0-9]+")
_DIGIT = re.compile(r"[0-9]")


def is_withheld(path: str) -> bool:
    """Whether the shipped policy keeps a record path (``vehicle.vin``) from export.

    :param path: dotted record path without list positions.
    """
    return load_policy().classify(path) != "export"


def pointer_path(pointer: str) -> str:
    """The dotted record path of a JSON pointer into a record (list positions dropped):
    ``/events/2/vin`` -> ``events.vin``."""
    tokens = jsonpointer.split(pointer)
    return ".".join(t for t in tokens if t and not _INDEX.fullmatch(t))


def xpath_path(xpath: str) -> str:
    """The dotted record path of an XPath into an XML record: the root and list item
    steps dropped, a platform field named by its ``name`` attribute:
    ``/record/events/event[2]/vin`` -> ``events.vin``."""
    steps = [s for s in xpath.split("/") if s][1:]
    out = []
    for step in steps:
        named = re.fullmatch(r"[\w-]+\[@name='([\w-]+)'\]", step)
        if named:
            out.append(named.group(1))
        elif "[" not in step:
            out.append(step)
    return ".".join(out)


def value_at(data: Any, pointer: str) -> Any:
    """The value a JSON pointer names in ``data``, or ``None``."""
    node = data
    for token in jsonpointer.split(pointer):
        if isinstance(node, dict):
            node = node.get(token)
        elif isinstance(node, list) and _INDEX.fullmatch(token) and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def _forms(value: Any) -> Iterable[str]:
    # How field messages quote a value: repr of the whole or of its first 40 characters
    # (also inside Python's own parser errors), or the text itself.
    if isinstance(value, dict | list) or value is None:
        return ()
    text = value if isinstance(value, str) else str(value)
    forms = {repr(text), repr(text[:40]), repr(value)}
    # libxml2 (XML Schema messages) quotes as '...' whatever the value holds, where repr
    # switches to "..." for an apostrophe and escapes a newline: without these forms a
    # value with no digit came back whole.
    forms |= {f"'{text}'", f"'{text[:40]}'"}
    if len(text) >= _MIN_SEARCH and _DIGIT.search(text):
        forms |= {text, text[:40], text[:20]}
    return sorted(forms, key=len, reverse=True)


def redact(message: str, value: Any) -> str:
    """``message`` with every quotation of ``value`` replaced by :data:`HIDDEN`.

    :param message: a problem message about a withheld field.
    :param value: the refused value as the caller sent it.
    :returns: the message naming the rule but not the value.
    """
    out = message
    for form in _forms(value):
        if form and form in out:
            out = out.replace(form, HIDDEN)
    return out + NOTE if out != message else out
