"""The pages' two languages: message catalogs as data (``i18n/en.json``, ``i18n/zh.json``).

Babel/gettext would bring a compile step (``.po`` -> ``.mo``), plural rules and locale
data for two languages of a few hundred short strings, where Chinese has no plural forms
and English plurals are written as two keys. A flat JSON object per language is data a
translator edits directly, and a test keeps the two catalogs' keys equal.

The EU attribute catalog labels its attributes in English only; their Chinese labels are
data beside the messages (``i18n/attributes.zh.json``, one per catalog key, a test keeps
them complete).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import request

CATALOG_DIR = Path(__file__).resolve().parent / "i18n"
LANGUAGES = ("en", "zh")
DEFAULT = "en"
#: The cookie that keeps the language a visitor picked over Accept-Language.
COOKIE = "lang"


@cache
def catalog(language: str) -> dict[str, str]:
    """The messages of a language.

    :param language: one of :data:`LANGUAGES`.
    """
    messages: dict[str, str] = json.loads(
        (CATALOG_DIR / f"{language}.json").read_text(encoding="utf-8")
    )
    return messages


@cache
def attribute_labels(language: str) -> dict[str, str]:
    """The labels of the catalog's attributes in a language other than English, by
    catalog key (empty when the language has no file: the catalog's own labels apply).

    :param language: one of :data:`LANGUAGES`.
    """
    path = CATALOG_DIR / f"attributes.{language}.json"
    if language == DEFAULT or not path.exists():
        return {}
    labels: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return labels


def attribute_label(key: str, english: str) -> str:
    """The label of the catalog attribute ``key`` in the request's language.

    :param english: the catalog's label, used when the language has none.
    """
    return attribute_labels(language()).get(key) or english


def language() -> str:
    """The language of this request: the visitor's pick (cookie), else the best match of
    ``Accept-Language`` (RFC 9110 §12.5.4), else English."""
    picked = request.cookies.get(COOKIE)
    if picked in LANGUAGES:
        return picked
    best = request.accept_languages.best_match(
        ["en", "zh", "zh-CN", "zh-Hans", "zh-TW", "zh-Hant"], default=DEFAULT
    )
    return "zh" if best.startswith("zh") else "en"


def translate(key: str, default: str | None = None, **values: Any) -> str:
    """The message ``key`` in the request's language (English if it has none, else
    ``default``, else the key itself), with ``{name}`` fields filled from ``values``."""
    text = catalog(language()).get(key) or catalog(DEFAULT).get(key) or default or key
    return text.format(**values) if values else text
