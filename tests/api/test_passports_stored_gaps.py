"""A stored passport's gap report reads as the draft made it, whatever form the store
keeps it in."""

from __future__ import annotations

import json

import pytest

from gateway.records import read_record
from gateway.services import draft_passport
from tests.helpers import BASE_URL, RECORDS, assert_problem, issue_keys, make_app

RECORD_FILES = (
    "ncm-ev-pack.json",
    "lfp-storage-pack.json",
    "echelon-pack.json",
    "sparse-pack.json",
)


@pytest.mark.parametrize("name", RECORD_FILES)
def test_api_gap_report_equals_the_draft(tmp_path, backend_url, name) -> None:
    app = make_app(tmp_path / "instance", backend_url)
    try:
        api = app.test_client()
        keys = issue_keys(app.extensions["gateway.settings"])
        body = (RECORDS / name).read_bytes()
        created = api.post(
            "/passports", data=body, content_type="application/json", headers=keys["exporter"]
        )
        assert created.status_code == 201, created.json
        code = created.headers["Location"].rpartition("/")[2]
        instance = app.extensions["gateway.instance"]
        draft = draft_passport(
            read_record(body, "application/json"),
            mapping=instance.mapping(app.extensions["gateway.settings"].mapping),
            base_url=BASE_URL,
        )
        expected = json.loads(json.dumps(draft.gaps))
        read = api.get(f"/passports/{code}/gaps", headers=keys["exporter"])
        assert read.status_code == 200
        stored = read.json
        stored.pop("access")
        assert stored == expected
        # The passport as issued carries the same report.
        assert created.json["gaps"] == expected
        # Nobody else reads it.
        assert_problem(api.get(f"/passports/{code}/gaps"), 401, "unauthorized")
        assert_problem(api.get(f"/passports/{code}/gaps", headers=keys["beta"]), 403)
    finally:
        app.extensions["gateway.instance"].db.dispose()
