"""CSV the gateway writes, safe to open in a spreadsheet program.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and
treats a leading tab or carriage return the same way after trimming (OWASP "CSV
Injection"): a mapping row's comment such as ``=HYPERLINK("https://…", "fix")`` would
become a live link or worse in the exporter's gap report. Every text cell that starts
with one of them is written with a leading apostrophe, which spreadsheets show as text
and do not keep as part of the value. Numbers stay numbers: a numeric value, or a
decimal string in a column declared numeric, is written as it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal
from typing import Any

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number (what a numeric column may hold unchanged).
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def safe_cell(value: Any, *, numeric: bool = False) -> Any:
    """One cell, neutralised if a spreadsheet would read it as a formula.

    :param value: the cell's value; ``None`` is an empty cell.
    :param numeric: the column holds numbers: a plain decimal string (``-12.5``) stays.
    :returns: the value to write.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if numeric and _NUMBER.fullmatch(text):
        return text
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def safe_row(row: Mapping[str, Any], numeric: Collection[str] = ()) -> dict[str, Any]:
    """A row with every cell passed through :func:`safe_cell`.

    :param numeric: names of the columns that hold numbers.
    """
    return {name: safe_cell(value, numeric=name in numeric) for name, value in row.items()}


def csv_text(
    columns: Iterable[str],
    rows: Iterable[Mapping[str, Any]],
    *,
    numeric: Collection[str] = (),
    line_end: str = "\r\n",
) -> str:
    """A CSV document (header, then the rows), every cell neutralised.

    :param columns: the column names, in order.
    :param rows: the rows by column name.
    :param numeric: names of the columns that hold numbers.
    :param line_end: ``\\r\\n`` (RFC 4180) by default.
    :returns: the document.
    """
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator=line_end)
    writer.writeheader()
    for row in rows:
        writer.writerow(safe_row(row, numeric))
    return out.getvalue()
