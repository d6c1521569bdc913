"""Published mapping tables shipped in ``mappings/<set>/<version>.sssom.tsv``."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from gateway.errors import MappingInvalid, MappingNotFound
from gateway.mapping import names
from gateway.mapping.model import MappingSet
from gateway.mapping.sssom import read_sssom
from gateway.mapping.validate import Problem, validate
from gateway.paths import MAPPINGS_DIR
from gateway.records.paths import field_paths
from gateway.vocab.catalog import load_catalog

SUFFIX = ".sssom.tsv"


def parse_ref(ref: str) -> tuple[str, str]:
    """Split ``SET@VERSION``, checking both names before anything looks for a file.

    :raises InvalidInput: the reference is not of that form (see
        :func:`gateway.mapping.names.parse_ref`).
    """
    return names.parse_ref(ref)


def available(root: Path = MAPPINGS_DIR) -> list[str]:
    """Every shipped ``SET@VERSION``, sorted; a file whose folder or name is not a set
    name and a version is no shipped version."""
    return sorted(
        f"{path.parent.name}@{path.name.removesuffix(SUFFIX)}"
        for path in root.glob(f"*/*{SUFFIX}")
        if names.SET_NAME.fullmatch(path.parent.name)
        and names.VERSION.fullmatch(path.name.removesuffix(SUFFIX))
    )


def load(ref: str, root: Path = MAPPINGS_DIR) -> MappingSet:
    """Read a shipped table and check it; the result is cached per file.

    :raises MappingNotFound: no such set or version (the message lists what exists).
    :raises MappingInvalid: the table has problems (all of them, with row numbers).
    """
    loaded = _LOADED.get((ref, root))
    if loaded is not None:
        return loaded
    set_id, version = parse_ref(ref)
    # Both names are slugs (checked above), so the path stays inside ``root``.
    path = root / set_id / f"{version}{SUFFIX}"
    if not path.is_file():
        known = ", ".join(available(root)) or "none"
        raise MappingNotFound(f"no mapping {ref}; available: {known}", pointer="mapping")
    mapping_set = _load_file(path)
    if len(_LOADED) < _LOADED_KEPT:
        _LOADED[(ref, root)] = mapping_set
    return mapping_set


#: Published tables by reference, once read: a published version never changes, so
#: each conversion need not look for its file again. Only references that named a
#: shipped file are kept, so the map holds at most the shipped versions.
_LOADED: dict[tuple[str, Path], MappingSet] = {}
_LOADED_KEPT = 256


@cache
def _load_file(path: Path) -> MappingSet:
    mapping_set = read_sssom(path.read_text(encoding="utf-8"))
    expected = (path.parent.name, path.name.removesuffix(SUFFIX))
    if (mapping_set.set_id, mapping_set.version) != expected:
        raise MappingInvalid(
            f"{path.name}: metadata says {mapping_set.ref}, file name says "
            f"{expected[0]}@{expected[1]}"
        )
    raise_problems(mapping_set, check(mapping_set))
    return mapping_set


def check(mapping_set: MappingSet) -> list[Problem]:
    """Validate against the shipped vocabulary and the record model."""
    return validate(mapping_set, load_catalog(), field_paths())


def raise_problems(mapping_set: MappingSet, problems: list[Problem]) -> None:
    if problems:
        first = problems[0]
        raise MappingInvalid(
            f"{mapping_set.ref}: {len(problems)} problem(s); first: row {first.row}: "
            f"{first.message}",
            errors=[p.as_dict() for p in problems],
        )
