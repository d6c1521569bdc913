"""JSON Canonicalization Scheme (RFC 8785), used by the ``eddsa-jcs-2022`` cryptosuite.

Written here because the only maintained implementation (the ``rfc8785`` package) is not
among the project's dependencies and the scheme is short: ECMAScript ``JSON.stringify``
string escaping (RFC 8785 §3.2.2.2), ECMAScript number formatting (§3.2.2.3) and object
members sorted by their UTF-16 code units (§3.2.3).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from gateway.errors import CredentialError
from gateway.jsonvalues import is_safe_integer


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value.

    :param value: parsed JSON (dict, list, str, int, float, bool, None).
    :returns: the canonical serialization.
    :raises CredentialError: a float is NaN or infinite, or a value is not JSON.
    """
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode("utf-8")


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        # Python's escaping with ensure_ascii=False equals JSON.stringify's for every
        # well-formed string: \b \t \n \f \r \" \\ short forms, other C0 as \u00xx.
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(value) if is_safe_integer(value) else _number(float(value)))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for i, key in enumerate(sorted(value, key=lambda k: k.encode("utf-16-be"))):
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise CredentialError(f"{type(value).__name__} is not a JSON value")


def _number(x: float) -> str:
    """ECMAScript Number::toString (ECMA-262 §6.1.6.1.20) of a finite double."""
    if not math.isfinite(x):
        raise CredentialError("JSON numbers must be finite (RFC 8785 §3.2.2.3)")
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    # repr() gives the shortest round-tripping digits, as ECMAScript requires.
    mantissa, _, exp = repr(abs(x)).partition("e")
    int_part, _, frac = mantissa.partition(".")
    digits = (int_part + frac.rstrip("0")).lstrip("0") or "0"
    point = (
        len(int_part.lstrip("0")) if int_part.strip("0") else -(len(frac) - len(frac.lstrip("0")))
    )
    n = point + (int(exp) if exp else 0)  # position of the decimal point
    k = len(digits)
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        body = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e > 0 else "-")
        body += str(abs(e))
    return sign + body
