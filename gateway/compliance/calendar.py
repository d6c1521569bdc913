"""Chinese working days: weekends and public holidays off, official make-up days on.

The 2018 Interim Provisions on traceability set reporting deadlines in working days
(工作日). Which days are working days is fixed each year by the State Council General
Office notice on the holiday arrangement (国务院办公厅关于××年部分节假日安排的通知):
whole holiday periods are days off and some weekend days become working days (调休上班).
``data/cn-holidays.csv`` lists every such date with the arrangement year it belongs to;
``data/SOURCES.md`` names the notice of each year.

Why by hand: the one maintained Python package for this (``chinesecalendar``) is not a
dependency of the gateway, and the deadline rules need to know which years the data
covers so a count outside them is reported as unverified rather than trusted.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from gateway.errors import ConfigError

DATA_DIR = Path(__file__).resolve().parent / "data"
HOLIDAYS_PATH = DATA_DIR / "cn-holidays.csv"
COLUMNS = ["date", "kind", "name", "arrangement"]
KINDS = ("holiday", "workday")
# Saturday and Sunday (date.weekday() numbering).
_WEEKEND = (5, 6)
_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class SpecialDay:
    """A date the annual notice changes: a holiday, or a weekend day worked instead."""

    date: dt.date
    kind: str
    name: str
    arrangement: int


@dataclass(frozen=True)
class WorkingDays:
    """A working-day calendar.

    :param days: date -> the notice's entry for it.
    :param years: the calendar years whose arrangement is known; outside them only
        weekends are known to be days off.
    """

    days: Mapping[dt.date, SpecialDay]
    years: frozenset[int]

    @classmethod
    def load(cls, path: Path | None = None) -> WorkingDays:
        """Read a holiday table (default: the one shipped with the gateway).

        :param path: a CSV file with columns ``date,kind,name,arrangement``.
        :returns: the calendar.
        :raises ConfigError: the file is missing or a row breaks a rule (the message
            names the line and column).
        """
        if path is None:
            return _shipped()
        return _read(Path(path))

    def covers(self, day: dt.date) -> bool:
        """True when the holiday arrangement of ``day``'s year is in the table."""
        return day.year in self.years

    def covers_span(self, start: dt.date, end: dt.date) -> bool:
        """True when every year from ``start`` to ``end`` is in the table."""
        low, high = min(start, end), max(start, end)
        return all(year in self.years for year in range(low.year, high.year + 1))

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day (make-up days count; holidays do not)."""
        special = self.days.get(day)
        if special is not None:
            return special.kind == "workday"
        return day.weekday() not in _WEEKEND

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end``.

        "Within N working days of X" counts from the day after X, so a report on the
        first working day after the event has taken 1 working day and one on the event
        day itself 0.

        :param start: the triggering date (not counted).
        :param end: the report date (counted).
        :returns: the count; negative when ``end`` is before ``start``.
        """
        if end < start:
            return -self.working_days_between(end, start)
        # Weekdays by arithmetic, then the notices' exceptions inside the span, so a
        # far-off date costs no more than a near one.
        weeks, rest = divmod((end - start).days, 7)
        count = weeks * 5 + sum(
            (start + dt.timedelta(days=k)).weekday() not in _WEEKEND for k in range(1, rest + 1)
        )
        for day, special in self.days.items():
            if start < day <= end:
                weekend = day.weekday() in _WEEKEND
                if special.kind == "workday" and weekend:
                    count += 1
                elif special.kind == "holiday" and not weekend:
                    count -= 1
        return count

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The date ``count`` working days after ``start`` (the last day of a deadline).

        :param start: the triggering date.
        :param count: working days allowed, at least 0.
        :returns: the last date on which a report is still in time.
        :raises ValueError: ``count`` is negative.
        """
        if count < 0:
            raise ValueError("count must be at least 0")
        day = start
        while count:
            day += _ONE_DAY
            if self.is_working_day(day):
                count -= 1
        return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end``, by the shipped calendar.

    :param start: the triggering date (not counted).
    :param end: the report date (counted).
    :returns: the count; negative when ``end`` is before ``start``.
    """
    return _shipped().working_days_between(start, end)


@lru_cache(maxsize=1)
def _shipped() -> WorkingDays:
    return _read(HOLIDAYS_PATH)


def _read(path: Path) -> WorkingDays:
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise ConfigError(f"{path.name}: cannot read holiday table: {exc.strerror}") from exc
    days: dict[dt.date, SpecialDay] = {}
    years: set[int] = set()
    with handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != COLUMNS:
            raise ConfigError(f"{path.name} line 1: columns must be {','.join(COLUMNS)}")
        for row in reader:
            line = reader.line_num

            def fail(column: str, message: str, line: int = line) -> ConfigError:
                return ConfigError(f"{path.name} line {line}, column {column}: {message}")

            if None in row or any(value is None for value in row.values()):
                raise fail("*", f"expected {len(COLUMNS)} columns")
            try:
                day = dt.date.fromisoformat(row["date"])
            except ValueError:
                raise fail("date", f"{row['date']!r} is not an ISO date") from None
            if row["kind"] not in KINDS:
                raise fail("kind", f"{row['kind']!r} is not one of {', '.join(KINDS)}")
            # A make-up working day is always a weekend day moved to work (调休上班).
            if row["kind"] == "workday" and day.weekday() not in _WEEKEND:
                raise fail("kind", f"{day} is a weekday; only weekend days become workdays")
            if not row["name"].strip():
                raise fail("name", "is empty")
            try:
                arrangement = int(row["arrangement"])
            except ValueError:
                raise fail("arrangement", f"{row['arrangement']!r} is not a year") from None
            if abs(day.year - arrangement) > 1:
                raise fail("arrangement", f"{day} cannot belong to the {arrangement} notice")
            if day in days:
                raise fail("date", f"{day} is listed twice")
            days[day] = SpecialDay(day, row["kind"], row["name"], arrangement)
            years.add(arrangement)
    return WorkingDays(MappingProxyType(days), frozenset(years))
