"""Art. 77(7): a repurposed battery's passport links to its original's passport only
when this gateway holds that passport; it never builds a link to one that may not exist
or live with another issuer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import RECORDS, issue_keys, make_app

ECHELON = json.loads((RECORDS / "echelon-pack.json").read_text(encoding="utf-8"))
ORIGINAL = ECHELON["battery"]["original_code"]


def _issue(api, keys, record: dict):
    response = api.post(
        "/passports",
        data=json.dumps(record).encode(),
        content_type="application/json",
        headers=keys["exporter"],
    )
    assert response.status_code == 201, response.json
    return response.json["credentials"]["annex-xiii-1"]["credentialSubject"]


def _original_record() -> dict:
    """The NCM pack's record under the echelon product's original code."""
    record = json.loads((RECORDS / "ncm-ev-pack.json").read_text(encoding="utf-8"))
    record["battery"]["code"] = ORIGINAL
    for key in ("modules", "cells"):
        record["battery"].pop(key, None)
    return record


@pytest.fixture
def app(tmp_path, backend_url) -> Iterator[Any]:
    app = make_app(tmp_path / "instance", backend_url)
    yield app
    app.extensions["gateway.instance"].db.dispose()


def test_no_link_to_a_passport_the_gateway_does_not_hold(app) -> None:
    api = app.test_client()
    keys = issue_keys(app.extensions["gateway.settings"])
    subject = _issue(api, keys, ECHELON)
    assert "predecessorPassportId" not in subject


def test_link_to_the_original_passport_the_gateway_holds(app) -> None:
    api = app.test_client()
    keys = issue_keys(app.extensions["gateway.settings"])
    original = _issue(api, keys, _original_record())
    subject = _issue(api, keys, ECHELON)
    assert subject["predecessorPassportId"] == original["id"]
