"""The access table and the rules of a grant (no database): the shipped table is the
letter of Art. 77(2), audiences are not nested, and a table or grant that breaks a rule
is refused naming the row and field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway import annex_xiii, auth
from gateway.access import disclosure
from gateway.access import grants as rules
from gateway.access.table import (
    AUDIENCES,
    CALLERS,
    DEFAULT_TABLE,
    TABLES_DIR,
    load_shipped,
    parse_csv,
)
from gateway.errors import InvalidInput
from gateway.validity import parse_bound

SHIPPED = (TABLES_DIR / "art77-2-1.0.0.csv").read_text(encoding="utf-8")


def test_the_shipped_table_is_the_letter_of_article_77_2() -> None:
    table = load_shipped()
    assert table.ref == DEFAULT_TABLE == "art77-2@1.0.0"
    assert {a: sorted(table.points(a)) for a in AUDIENCES} == {
        "public": [1],
        "authority": [1, 2, 3],
        "legitimate_interest": [1, 2, 4],
        "issuer": [1, 2, 3, 4],
    }
    reached = {
        caller: table.audience_of(None if caller == "anonymous" else caller) for caller in CALLERS
    }
    assert reached == {
        "anonymous": "public",
        "exporter": "public",  # for others' passports; its own make it the issuer
        "editor": "public",
        "importer": "public",  # legitimate interest is granted, never assumed
        "authority": "authority",
        "admin": "issuer",
    }
    for audience in AUDIENCES:
        assert "Art. 77" in table.audiences[audience].legal_basis


def test_audiences_are_not_nested() -> None:
    table = load_shipped()
    assert 4 not in table.points("authority")
    assert 3 not in table.points("legitimate_interest")


def test_the_csv_form_round_trips_and_hashes_stably() -> None:
    table = load_shipped()
    again = parse_csv(table.csv_text(), table.name, table.version)
    assert again == table and again.sha256 == table.sha256
    assert table.csv_text().splitlines()[0] == "audience,points,roles,legal_basis"


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("public,1,", "public,1 2,", "line 2"),
        ("authority,1 2 3,", "authority,2 3,", "line 3"),
        ("issuer,1 2 3 4,", "issuer,1 2 3,", "line 5"),
        ("issuer,1 2 3 4,", "issuer,1 2 3 5,", "line 5"),
        ("legitimate_interest,1 2 4,,", "legitimate_interest,1 2 4,importer,", "line 4"),
        ("public,1,anonymous ", "public,1,", "line 2"),
        ("authority,1 2 3,authority,", "authority,1 2 3,authority chief,", "line 3"),
        ("authority,1 2 3,", "auditor,1 2 3,", "line 3"),
    ],
)
def test_a_table_breaking_a_rule_is_refused_naming_its_line(old: str, new: str, line: str) -> None:
    assert old in SHIPPED
    with pytest.raises(InvalidInput) as refused:
        parse_csv(SHIPPED.replace(old, new, 1), "art77-2", "1.1.0")
    assert refused.value.pointer == line, refused.value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "audience,points\npublic,1\n",
        SHIPPED + SHIPPED.splitlines()[1] + "\n",
        "\n".join(SHIPPED.splitlines()[:4]) + "\n",
        SHIPPED.replace("authority,1 2 3,authority,", "authority,1 2 3,authority admin,", 1),
        SHIPPED + "x" * 20_000,
        'audience,points,roles,legal_basis\n"unterminated',
    ],
)
def test_malformed_table_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_csv(text, "art77-2", "1.1.0")


@pytest.mark.parametrize(("name", "version"), [("Art77", "1.0.0"), ("art77-2", "1.0"), ("", "")])
def test_a_table_names_itself_as_a_slug_and_a_version(name: str, version: str) -> None:
    with pytest.raises(InvalidInput):
        parse_csv(SHIPPED, name, version)


def test_grant_points_are_legitimate_interest_points_other_than_point_1() -> None:
    grantable = load_shipped().points("legitimate_interest")
    assert rules.check_points([2, 4], grantable) == {2, 4}
    assert rules.check_points([4], grantable) == {4}
    for bad in ([1], [3], [2, 3], [], [True], ["2"], [5]):
        with pytest.raises(InvalidInput) as refused:
            rules.check_points(bad, grantable)
        assert refused.value.pointer == "/points"


def test_grant_purposes_are_those_of_article_77_2_c() -> None:
    assert rules.PURPOSES == (
        "dismantling_repair_remanufacturing",
        "independent_aggregator_energy_market",
    )
    for bad in ("marketing", "", None, 1):
        with pytest.raises(InvalidInput):
            rules.check_purpose(bad)


def test_grant_times_and_validity() -> None:
    # A date is a whole day in China Standard Time: "until 2026-01-01" includes that day.
    assert parse_bound("2026-01-01", "/validFrom") == datetime(2025, 12, 31, 16, tzinfo=UTC)
    assert parse_bound("2026-01-01", "/validUntil", end=True) == datetime(
        2026, 1, 1, 16, tzinfo=UTC
    )
    assert parse_bound("2026-01-01T08:00:00+08:00", "/x") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_bound("2026-01-01T00:00:00z", "/x") == datetime(2026, 1, 1, tzinfo=UTC)
    for bad in (
        "2026-01-01T00:00:00",
        "soon",
        "",
        "2026-01-01" + " " * 40,
        "0001-01-01T00:00:00+14:00",
        "2026-02-30",
        20260101,
        None,
    ):
        with pytest.raises(InvalidInput):
            parse_bound(bad, "/x")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    period = rules.check_validity(start, start + timedelta(days=1))
    assert period.holds(start) and not period.holds(start + timedelta(days=1))
    for end in (start, start - timedelta(seconds=1), start + rules.MAX_VALIDITY + timedelta(1)):
        with pytest.raises(InvalidInput):
            rules.check_validity(start, end)


def test_which_reads_are_disclosures() -> None:
    def who(role: str, tenant: int, key: int = 7) -> auth.Principal:
        return auth.Principal(tenant_id=tenant, tenant_name=f"t{tenant}", role=role, key_id=key)

    everything = list(annex_xiii.SECTIONS)
    assert disclosure.disclosed_points(None, 1, ["annex-xiii-1"]) == set()
    assert disclosure.disclosed_points(who("importer", 2), 1, ["annex-xiii-1"]) == set()
    assert disclosure.disclosed_points(who("exporter", 1), 1, everything) == set()
    assert disclosure.disclosed_points(who("importer", 1), 1, everything) == set()
    assert disclosure.disclosed_points(auth.CONSOLE_ADMIN, 1, everything) == set()
    assert disclosure.disclosed_points(who("authority", 2), 1, everything[:3]) == {2, 3}
    assert disclosure.disclosed_points(
        who("importer", 2), 1, ["public", "legitimate_interest"]
    ) == {
        2,
        4,
    }
