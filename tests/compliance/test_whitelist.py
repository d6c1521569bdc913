"""The dated white-list: loading, validation, lookup, import into an instance."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from gateway.compliance.whitelist import (
    COLUMNS,
    Whitelist,
    import_csv,
    import_rows,
    parse_csv,
)
from gateway.errors import WhitelistInvalid

D = dt.date
HEADER = ",".join(COLUMNS) + "\n"
ROWS = (
    "7,公告2030年第1号,2030-02-01,江苏,甲梯次利用有限公司,,echelon_use,listed,,T-7-01\n"
    "7,公告2030年第1号,2030-02-01,江苏,乙再生利用有限公司,,recycling,listed,,T-7-02\n"
    "7,公告2030年第1号,2030-02-01,浙江,丙综合利用有限公司,,both,removed,2031-06-30,T-7-03\n"
)


@pytest.fixture
def custom(tmp_path: Path) -> Whitelist:
    path = tmp_path / "list.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    return Whitelist.load(path)


def test_shipped_first_batch() -> None:
    shipped = Whitelist.load()
    names = [item.name for item in shipped.listings]
    assert names == [
        "衢州华友钴新材料有限公司",
        "赣州市豪鹏科技有限公司",
        "荆门市格林美新材料有限公司",
        "湖南邦普循环科技有限公司",
        "广东光华科技股份有限公司",
    ]
    assert {item.announced_on for item in shipped.listings} == {D(2018, 9, 3)}
    assert {item.type for item in shipped.listings} == {"unknown"}
    state = shipped.completeness()
    assert not state["complete"]
    assert {b["batch"]: b["announced"] for b in state["batches"]} == {
        1: 5,
        2: None,
        3: None,
        4: 41,
        5: 68,
    }


def test_lookup_by_licence_and_name(custom: Whitelist) -> None:
    on = D(2030, 5, 1)
    assert custom.lookup("T-7-01", on, "echelon_use").name == "甲梯次利用有限公司"
    # Names compare after NFKC and whitespace folding.
    assert custom.lookup(" 乙再生利用有限公司 ", on, "recycling").licence_no == "T-7-02"
    assert custom.lookup("T-7-03", on, "echelon_use").licence_no == "T-7-03"  # both
    assert custom.lookup("T-7-01", on, "recycling") is None
    assert custom.lookup("无名公司", on, None) is None


@pytest.mark.parametrize(
    ("key", "on", "activity", "status"),
    [
        ("T-7-01", D(2030, 2, 1), "echelon_use", "listed"),  # from the announcement day
        ("T-7-01", D(2030, 1, 31), "echelon_use", "not_yet_listed"),
        ("T-7-01", D(2030, 5, 1), "recycling", "other_activity"),
        ("T-7-03", D(2031, 6, 29), "recycling", "listed"),
        ("T-7-03", D(2031, 6, 30), "recycling", "removed"),  # removed that day
        ("T-7-09", D(2030, 5, 1), None, "not_listed"),
    ],
)
def test_dated_status(
    custom: Whitelist, key: str, on: dt.date, activity: str | None, status: str
) -> None:
    assert custom.check(key, on, activity).status == status


def test_unknown_type_is_not_a_confirmed_listing() -> None:
    shipped = Whitelist.load()
    verdict = shipped.check("MIIT-2018-40-04", D(2025, 1, 1), "recycling")
    assert verdict.status == "activity_unknown"
    assert shipped.lookup("MIIT-2018-40-04", D(2025, 1, 1), "recycling") is None
    assert shipped.lookup("MIIT-2018-40-04", D(2025, 1, 1), None) is not None


def test_validation_names_every_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER
        + "0,公告,2030-02-01,江苏,甲,,echelon_use,listed,,T1\n"  # batch, licence too short
        + "1,公告,2030-02-30,江苏,乙,,recycle,listed,,T-7-02\n"  # date, type
        + "1,公告,2030-02-01,江苏,=HYPERLINK(1),,both,removed,,T-7-03\n"  # formula, removed_on
        + "1,公告,2030-02-01,江苏,丁,,both,listed,,T-7-03\n",
        encoding="utf-8",
    )
    with pytest.raises(WhitelistInvalid) as caught:
        import_csv(path)
    found = {(e["line"], e["column"]) for e in caught.value.extensions["errors"]}
    assert found == {
        (2, "batch"),
        (2, "licence_no"),
        (3, "announced_on"),
        (3, "type"),
        (4, "name"),
        (4, "removed_on"),
    }
    assert str(caught.value).startswith("bad.csv line 2, column batch:")


def test_header_and_encoding_refused() -> None:
    with pytest.raises(WhitelistInvalid, match="line 1, column \\*: missing licence_no"):
        parse_csv(HEADER.replace(",licence_no", "").encode())
    with pytest.raises(WhitelistInvalid, match="not UTF-8"):
        parse_csv(b"\xff\xfe" + HEADER.encode("utf-16-le"))


def test_import_merges_atomically(tmp_path: Path) -> None:
    home = tmp_path / "instance"
    first = parse_csv((HEADER + ROWS).encode())
    result = import_rows(first, home)
    assert [item.licence_no for item in result.added] == ["T-7-01", "T-7-02", "T-7-03"]
    assert (home / "whitelist.csv").is_file()
    assert not list(home.glob(".whitelist-*"))  # no temporary file left behind

    # Change one row, repeat one, and confirm a shipped listing's type.
    again = parse_csv(
        (
            HEADER
            + ROWS.splitlines()[0].replace("echelon_use", "both")
            + "\n"
            + ROWS.splitlines()[1]
            + "\n"
            + "1,工业和信息化部公告2018年第40号,2018-09-03,湖南,湖南邦普循环科技有限公司,"
            "Hunan Brunp Recycling Technology Co. Ltd.,recycling,listed,,MIIT-2018-40-04\n"
        ).encode()
    )
    result = import_rows(again, home)
    assert result.added == ()
    assert [(c.licence_no, dict(c.fields)) for c in result.changed] == [
        ("T-7-01", {"type": ("echelon_use", "both")}),
        ("MIIT-2018-40-04", {"type": ("unknown", "recycling")}),
    ]
    assert result.unchanged == ("T-7-02",)

    effective = Whitelist.for_home(home)
    assert len(effective.listings) == 5 + 3
    assert effective.lookup("MIIT-2018-40-04", D(2025, 1, 1), "recycling") is not None
    assert effective.lookup("T-7-01", D(2030, 5, 1), "recycling") is not None


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    result = import_rows(parse_csv((HEADER + ROWS).encode()), tmp_path, dry_run=True)
    assert len(result.added) == 3
    assert not (tmp_path / "whitelist.csv").exists()
