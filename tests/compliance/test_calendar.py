"""The Chinese working-day calendar against the State Council holiday notices."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.compliance.calendar import WorkingDays, working_days_between
from gateway.errors import ConfigError

D = dt.date


@pytest.fixture(scope="module")
def calendar() -> WorkingDays:
    return WorkingDays.load()


def test_2024_national_day_week(calendar: WorkingDays) -> None:
    # 2024 notice: 10月1日至7日放假调休，共7天。9月29日（星期日）、10月12日（星期六）上班。
    for day in range(1, 8):
        assert not calendar.is_working_day(D(2024, 10, day))
    assert calendar.is_working_day(D(2024, 9, 29))  # a Sunday worked
    assert calendar.is_working_day(D(2024, 10, 12))  # a Saturday worked
    assert not calendar.is_working_day(D(2024, 10, 13))  # an ordinary Sunday
    # 9/29, 9/30, 10/8-10/11, 10/12, 10/14
    assert calendar.working_days_between(D(2024, 9, 27), D(2024, 10, 14)) == 8
    assert calendar.add_working_days(D(2024, 9, 27), 8) == D(2024, 10, 14)


def test_counting_convention(calendar: WorkingDays) -> None:
    monday = D(2025, 3, 3)
    assert calendar.working_days_between(monday, monday) == 0
    assert calendar.working_days_between(monday, D(2025, 3, 4)) == 1
    assert calendar.working_days_between(D(2025, 3, 7), D(2025, 3, 10)) == 1  # over a weekend
    assert calendar.working_days_between(D(2025, 3, 10), D(2025, 3, 7)) == -1
    assert working_days_between(D(2024, 9, 27), D(2024, 10, 14)) == 8


def test_2020_spring_festival_extension(calendar: WorkingDays) -> None:
    # 国办发明电〔2020〕1号 extended the holiday to 2 February; 1 February was no longer
    # a make-up working day.
    assert not calendar.is_working_day(D(2020, 1, 31))
    assert not calendar.is_working_day(D(2020, 2, 1))
    assert calendar.is_working_day(D(2020, 2, 3))


def test_2026_arrangement(calendar: WorkingDays) -> None:
    # 2026 notice: 春节 2月15日至23日, 2月14日、2月28日上班; 国庆 9月20日（周日）上班.
    assert all(not calendar.is_working_day(D(2026, 2, d)) for d in range(15, 24))
    assert calendar.is_working_day(D(2026, 2, 14)) and calendar.is_working_day(D(2026, 2, 28))
    assert calendar.is_working_day(D(2026, 9, 20))
    assert calendar.is_working_day(D(2026, 1, 4))


def test_statutory_holiday_days_per_year(calendar: WorkingDays) -> None:
    # 全国年节及纪念日放假办法: 11 public-holiday days a year, 13 from 2025 (2024 revision).
    # Statutory days falling on a weekend are made up on a weekday, so weekday days off
    # minus make-up working days equals that number; 2020 adds the two days of the
    # COVID-19 extension (31 January off, 1 February no longer worked).
    net: Counter[int] = Counter()
    for day, special in calendar.days.items():
        if special.kind == "holiday" and day.weekday() < 5:
            net[special.arrangement] += 1
        elif special.kind == "workday":
            net[special.arrangement] -= 1
    expected = {year: 11 for year in range(2018, 2025)} | {2020: 13, 2025: 13, 2026: 13}
    assert dict(net) == expected


def test_coverage(calendar: WorkingDays) -> None:
    assert calendar.years == frozenset(range(2018, 2027))
    assert calendar.covers(D(2026, 12, 31))
    assert not calendar.covers(D(2027, 1, 1))
    assert not calendar.covers_span(D(2026, 12, 1), D(2027, 1, 15))
    # Outside the table only weekends are days off.
    assert calendar.working_days_between(D(2027, 3, 5), D(2027, 3, 8)) == 1


def test_make_up_days_are_weekends(calendar: WorkingDays) -> None:
    workdays = [d for d, s in calendar.days.items() if s.kind == "workday"]
    assert workdays and all(d.weekday() >= 5 for d in workdays)


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("2024-10-32,holiday,x,2024", "date"),
        ("2024-10-01,off,x,2024", "kind"),
        ("2024-10-08,workday,x,2024", "kind"),  # a Tuesday cannot be a make-up day
        ("2024-10-01,holiday,,2024", "name"),
        ("2024-10-01,holiday,x,2020", "arrangement"),
    ],
)
def test_bad_table_names_line_and_column(tmp_path: Path, row: str, column: str) -> None:
    path = tmp_path / "h.csv"
    path.write_text(
        "date,kind,name,arrangement\n2024-09-29,workday,x,2024\n" + row + "\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=f"line 3, column {column}"):
        WorkingDays.load(path)


@given(st.dates(dt.date(2017, 6, 1), dt.date(2028, 6, 1)), st.integers(0, 500))
def test_count_matches_day_by_day(start: dt.date, span: int) -> None:
    calendar = WorkingDays.load()
    end = start + dt.timedelta(days=span)
    by_day = sum(calendar.is_working_day(start + dt.timedelta(days=k)) for k in range(1, span + 1))
    assert calendar.working_days_between(start, end) == by_day
    if by_day:
        assert calendar.add_working_days(start, by_day) <= end
