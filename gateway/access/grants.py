"""What an access grant may say: the purposes of Art. 77(2)(c), what it covers, the
points it opens and for how long.

Legitimate interest is granted, never assumed: the exporter that issued a passport (or
an admin) names a party, the passports, the points, the purpose, a validity period and a
reason. Storing, listing and revoking grants is :mod:`gateway.store.grants`; what a grant
opens for one reader of one passport is :mod:`gateway.services.access`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway import annex_xiii
from gateway.annex_xiii import Point
from gateway.errors import InvalidInput

#: Art. 77(2)(c)(a): dismantling, including safety measures, and the exact composition of
#: the battery model, needed by repairers, remanufacturers, second-life operators and
#: recyclers.
DISMANTLING = "dismantling_repair_remanufacturing"
#: Art. 77(2)(c)(b): for individual batteries, making the battery available to
#: independent aggregators or energy-market participants.
AGGREGATOR = "independent_aggregator_energy_market"
PURPOSES: tuple[str, ...] = (DISMANTLING, AGGREGATOR)
PURPOSE_TEXT = {
    DISMANTLING: "Art. 77(2)(c)(a): dismantling, safety measures and exact composition, "
    "for repairers, remanufacturers, second-life operators and recyclers",
    AGGREGATOR: "Art. 77(2)(c)(b): making an individual battery available to independent "
    "aggregators or energy-market participants",
}

#: What a grant covers: one passport, a production batch of the issuer's, or all its
#: passports (those issued later too).
PASSPORT, BATCH, ALL = "passport", "batch", "all"
SCOPES: tuple[str, ...] = (PASSPORT, BATCH, ALL)

#: Longest validity period a grant may have; a longer interest is granted again.
MAX_VALIDITY = timedelta(days=3653)
MAX_REASON = 1000
MAX_BATCH = 64


def check_purpose(purpose: object, pointer: str = "/purpose") -> str:
    """A purpose of :data:`PURPOSES`.

    :raises InvalidInput: any other value.
    """
    if purpose not in PURPOSES or not isinstance(purpose, str):
        raise InvalidInput(
            f"purpose must be one of {', '.join(PURPOSES)} (Art. 77(2)(c))", pointer=pointer
        )
    return purpose


def check_points(
    points: Collection[object], grantable: Collection[int], pointer: str = "/points"
) -> frozenset[Point]:
    """The points a grant opens: some of ``grantable`` (the legitimate-interest audience's
    points other than the public point 1; by default 2 and 4).

    :raises InvalidInput: empty, not points, or a point the audience does not read.
    """
    allowed = sorted(p for p in grantable if p != annex_xiii.PUBLIC_POINT)
    found: set[Point] = set()
    for item in points:
        if not annex_xiii.is_point(item) or item not in allowed:
            raise InvalidInput(
                f"a grant opens Annex XIII points {' and/or '.join(map(str, allowed))} "
                f"(legitimate interest, Art. 77(2)(c)), not {item!r}",
                pointer=pointer,
            )
        found.add(item)
    if not found:
        raise InvalidInput("a grant opens at least one point", pointer=pointer)
    return frozenset(found)


@dataclass(frozen=True)
class Validity:
    """When a grant holds: from ``start`` (inclusive) until ``end`` (exclusive)."""

    start: datetime
    end: datetime

    def holds(self, at: datetime) -> bool:
        return self.start <= at < self.end


def check_validity(start: datetime, end: datetime) -> Validity:
    """A validity period: ``end`` after ``start``, at most :data:`MAX_VALIDITY` long.

    :raises InvalidInput: naming ``/validUntil``.
    """
    if end <= start:
        raise InvalidInput("validUntil must be after validFrom", pointer="/validUntil")
    if end - start > MAX_VALIDITY:
        raise InvalidInput(
            f"a grant holds at most {MAX_VALIDITY.days} days; grant again after",
            pointer="/validUntil",
        )
    return Validity(start, end)


def check_reason(reason: object, pointer: str = "/reason") -> str:
    """Why the grant is made (or revoked): 1-1000 characters.

    :raises InvalidInput: missing, blank or longer.
    """
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise InvalidInput(f"give a reason of 1-{MAX_REASON} characters", pointer=pointer)
    if not reason.isprintable():
        # Control and invisible characters: the audit log and pages must read as stored
        # (and PostgreSQL refuses NUL in text).
        raise InvalidInput("a reason is printable text on one line", pointer=pointer)
    return reason.strip()


def check_batch(batch: object, pointer: str = "/batch") -> str:
    """A production batch as records carry it (``production.batch``).

    :raises InvalidInput: missing, blank or longer than records allow.
    """
    if not isinstance(batch, str) or not batch.strip() or len(batch) > MAX_BATCH:
        raise InvalidInput(f"a batch is 1-{MAX_BATCH} characters", pointer=pointer)
    if not batch.isprintable():
        # The record schema refuses such characters, so no passport is of that batch.
        raise InvalidInput("a batch is printable text", pointer=pointer)
    return batch
