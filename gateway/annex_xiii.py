"""The Annex XIII points a passport's attributes fall into, and the credentials that
carry them.

Regulation (EU) 2023/1542 Art. 77(2) gives each point of Annex XIII its own audience:
point 1 is public; points 2 and 3 are for notified bodies, market surveillance
authorities and the Commission; points 2 and 4 for persons with a legitimate interest.
The audiences are not nested (authorities never read point 4, legitimate-interest
holders never read point 3), so a passport is issued as one credential per non-empty
point, named by its *section* ``annex-xiii-N``. Who reads which point is data
(``gateway.access``); this module holds only the names.

Passports issued before carry three credentials named by the earlier access groups;
:data:`LEGACY_SECTIONS` says which points each holds, so the same rules serve them: a
section is shown only to a caller entitled to every point it holds.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Literal, TypeGuard, get_args

Point = Literal[1, 2, 3, 4]
#: Every point, widest audience first (the order of credentials and page sections).
POINTS: tuple[Point, ...] = get_args(Point)
PUBLIC_POINT: Point = 1
_PREFIX = "annex-xiii-"


def section(point: Point) -> str:
    """The section (a credential's ``accessGroup``) that carries one point."""
    return f"{_PREFIX}{point}"


#: The sections a passport is issued with now, one per point.
SECTIONS: tuple[str, ...] = tuple(section(p) for p in POINTS)
PUBLIC_SECTION = section(PUBLIC_POINT)
#: Sections of passports issued under the three access groups, and the points each holds.
LEGACY_SECTIONS: Mapping[str, frozenset[Point]] = MappingProxyType(
    {
        "public": frozenset({1}),
        "legitimate_interest": frozenset({2, 4}),
        "authorities": frozenset({3}),
    }
)
#: Every section name a stored or verified credential may carry.
ALL_SECTIONS: tuple[str, ...] = SECTIONS + tuple(LEGACY_SECTIONS)
_SECTION_POINTS: Mapping[str, frozenset[Point]] = MappingProxyType(
    {**{section(p): frozenset({p}) for p in POINTS}, **LEGACY_SECTIONS}
)


def is_point(value: object) -> TypeGuard[Point]:
    """Whether ``value`` is one of :data:`POINTS` (an int, not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value in POINTS


def is_section(value: object) -> TypeGuard[str]:
    """Whether ``value`` names one of :data:`ALL_SECTIONS`."""
    return isinstance(value, str) and value in _SECTION_POINTS


def points_of(name: str) -> frozenset[Point]:
    """The points a section holds.

    :raises KeyError: not a section name.
    """
    return _SECTION_POINTS[name]


def readable(name: str, points: Collection[int]) -> bool:
    """Whether a caller entitled to ``points`` may read the whole of section ``name``."""
    return points_of(name) <= frozenset(points)


def parse_points(text: str) -> frozenset[Point]:
    """Points written as ``"2 4"``, ``"2,4"`` or ``"4"``.

    :raises ValueError: an item that is not 1, 2, 3 or 4, or no item at all.
    """
    items = [item for item in text.replace(",", " ").split() if item]
    if not items:
        raise ValueError("no Annex XIII point given")
    points: set[Point] = set()
    for item in items:
        number = int(item) if item.isdigit() and len(item) == 1 else None
        if not is_point(number):
            raise ValueError(f"{item!r} is not an Annex XIII point (1, 2, 3 or 4)")
        points.add(number)
    return frozenset(points)


def format_points(points: Collection[int]) -> str:
    """Points as ``"1 2 4"``, in order."""
    return " ".join(str(p) for p in sorted(points))
