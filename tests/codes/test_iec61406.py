"""IEC 61406 identification links embedding a GB/T 34014 code."""

from __future__ import annotations

import pytest

from gateway.codes import iec61406

CODE = "Z9ZPBA10000001F3F0000123"
ECHELON = "Z9ZPB2A3F3F0000123RP"[:19]


def test_a_link_embeds_the_code_under_id() -> None:
    assert iec61406.link("id.example.cn", CODE) == f"https://id.example.cn/id/{CODE}"
    assert iec61406.code_of(iec61406.path(CODE)) == CODE
    assert iec61406.code_of(iec61406.path(ECHELON)) == ECHELON


@pytest.mark.parametrize(
    "path", ["/id/", "/id/abc", f"/id/{CODE}X", f"/x/{CODE}", f"/id/{CODE.lower()}"]
)
def test_other_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError):
        iec61406.code_of(path)
