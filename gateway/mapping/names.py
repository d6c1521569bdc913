"""What a mapping set name and a mapping version may look like.

Both end up in file names (``mappings/<set>/<version>.sssom.tsv``), URLs and pages, so
they are checked here, once, before any file or store access: a set name is a lowercase
slug, a version is ``MAJOR.MINOR.PATCH`` (Semantic Versioning 2.0.0 §2, no pre-release
or build parts, no leading zeros).
"""

from __future__ import annotations

import re

from gateway.errors import InvalidInput

#: A lowercase slug: letters, digits and single hyphens inside, at most 64 characters.
SET_NAME = re.compile(r"[a-z0-9](?:-?[a-z0-9]){0,63}")
#: Semantic version core; each part at most 9 digits, so it stays a small integer.
VERSION = re.compile(r"(?:0|[1-9][0-9]{0,8})\.(?:0|[1-9][0-9]{0,8})\.(?:0|[1-9][0-9]{0,8})")
#: Longest reference worth looking at (``SET@VERSION``).
MAX_REF_LENGTH = 64 + 1 + 29


def check_set_name(name: str, pointer: str = "set") -> str:
    """A mapping set name, checked.

    :param name: the name as given.
    :param pointer: the parameter or field that carried it, for the error.
    :returns: the name.
    :raises InvalidInput: not a lowercase slug of at most 64 characters.
    """
    if not isinstance(name, str) or not SET_NAME.fullmatch(name):
        raise InvalidInput(
            f"{pointer} must be a mapping set name: lowercase letters, digits and single "
            "hyphens, at most 64 characters (e.g. cn-trace-to-eu-passport)",
            pointer=pointer,
        )
    return name


def check_version(version: str, pointer: str = "version") -> str:
    """A mapping version, checked.

    :param version: the version as given.
    :param pointer: the parameter or field that carried it, for the error.
    :returns: the version.
    :raises InvalidInput: not ``MAJOR.MINOR.PATCH``.
    """
    if not isinstance(version, str) or not VERSION.fullmatch(version):
        raise InvalidInput(
            f"{pointer} must be a semantic version MAJOR.MINOR.PATCH without leading zeros "
            "(e.g. 1.1.0)",
            pointer=pointer,
        )
    return version


def parse_ref(ref: str, pointer: str = "mapping") -> tuple[str, str]:
    """Split and check a ``SET@VERSION`` reference.

    :param ref: the reference as given.
    :param pointer: the parameter or field that carried it, for the error.
    :returns: the set name and the version.
    :raises InvalidInput: not of that form, or either part breaks its rule.
    """
    if not isinstance(ref, str) or len(ref) > MAX_REF_LENGTH or ref.count("@") != 1:
        raise InvalidInput(
            f"{pointer} must be SET@VERSION, e.g. cn-trace-to-eu-passport@1.0.0", pointer=pointer
        )
    set_id, _, version = ref.partition("@")
    check_set_name(set_id, pointer)
    check_version(version, pointer)
    return set_id, version
