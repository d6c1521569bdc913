"""The pages speak of Annex XIII points: the passport page has one section per point,
headed by who it is for (passports issued under the three earlier groups are labelled by
the points they hold), and the heatmap and the mapping editor filter by point."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import RECORDS, issue_keys, make_app, store_legacy_passport

SET = "cn-trace-to-eu-passport"
HEADINGS = {
    1: "Annex XIII point 1: public information",
    2: "Annex XIII point 2: model data for legitimate interest and authorities",
    3: "Annex XIII point 3: test results for authorities",
    4: "Annex XIII point 4: this battery, for legitimate interest",
}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path / "instance")
    yield app
    app.extensions["gateway.instance"].db.dispose()


@pytest.fixture
def keys(app: Flask) -> dict[str, dict[str, str]]:
    return issue_keys(app.extensions["gateway.settings"])


def _signed_in(app: Flask, header: dict[str, str]) -> FlaskClient:
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    secret = header["Authorization"].removeprefix("Bearer ")
    assert client.post("/login", data={"api_key": secret, "csrf_token": token}).status_code == 303
    return client


def _issue(app: Flask, header: dict[str, str], name: str = "ncm-ev-pack.json") -> dict:
    created = app.test_client().post(
        "/passports",
        data=(RECORDS / name).read_bytes(),
        content_type="application/json",
        headers={**header, "Idempotency-Key": "web-batch:b1#1"},
    )
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def _h2(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h2[^>]*>(.*?)</h2>", html)]


def _page(client: FlaskClient, code: str) -> str:
    response = client.get(f"/passports/{code}", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    return response.get_data(as_text=True)


def test_one_section_per_point_in_point_order(app, keys) -> None:
    code = _issue(app, keys["exporter"])["batteryCode"]
    owner = _page(_signed_in(app, keys["exporter"]), code)
    shown = [h for h in _h2(owner) if h.startswith("Annex XIII")]
    assert shown == [HEADINGS[n] for n in (1, 2, 3, 4)]
    assert "for persons with a legitimate interest only" in owner  # point 4 says who
    assert _h2(_page(app.test_client(), code)).count(HEADINGS[1]) == 1
    assert not any(h in _page(app.test_client(), code) for h in (HEADINGS[2], HEADINGS[3]))


def test_passports_of_the_earlier_groups_are_labelled_by_their_points(app, keys) -> None:
    code = store_legacy_passport(app).rsplit("/", 1)[1]
    owner = _page(_signed_in(app, keys["exporter"]), code)
    shown = [h for h in _h2(owner) if h.startswith("Annex XIII")]
    assert shown == [
        "Annex XIII point 1: public information",
        "Annex XIII points 2 and 4: model data and this battery",
        "Annex XIII point 3: test results for authorities",
    ]
    # The badge still checks the public credential, issued as "public".
    assert "badge-h" in owner
    anonymous = _page(app.test_client(), code)
    assert "badge-h" in anonymous and "Annex XIII points 2 and 4" not in anonymous
    label = app.test_client().get(f"/passports/{code}/label")
    assert label.status_code == 200 and "NCM811" in label.get_data(as_text=True)


def _heatmap_rows(html: str) -> list[str]:
    return re.findall(r'<span class="attr-label">([^<]+)</span>', html)


def test_heatmap_filters_by_point(app, keys) -> None:
    _issue(app, keys["exporter"])
    client = _signed_in(app, keys["exporter"])
    everything = _heatmap_rows(client.get("/dashboard/batches/b1").get_data(as_text=True))
    point_3 = client.get("/dashboard/batches/b1?point=3")
    assert point_3.status_code == 200
    assert _heatmap_rows(point_3.get_data(as_text=True)) == [
        "Results of test reports proving compliance"
    ]
    point_2 = _heatmap_rows(client.get("/dashboard/batches/b1?point=2").get_data(as_text=True))
    assert len(point_2) == 5 and set(point_2) < set(everything)


@pytest.mark.parametrize(
    "value", ["5", "0", "annex-xiii-1", "legitimate_interest", "1 2", "9" * 5000]
)
def test_heatmap_refuses_a_point_that_is_not_one(app, keys, value) -> None:
    _issue(app, keys["exporter"])
    response = _signed_in(app, keys["exporter"]).get(
        "/dashboard/batches/b1", query_string={"point": value}
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "point must be one of 1, 2, 3, 4" in text


def test_heatmap_by_point_is_the_issuers_alone(app, keys) -> None:
    _issue(app, keys["exporter"])
    anonymous = app.test_client().get("/dashboard/batches/b1?point=4")
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["Location"]
    assert _signed_in(app, keys["importer"]).get("/dashboard/batches/b1?point=4").status_code == 403
    # Another tenant's exporter has no such batch.
    assert _signed_in(app, keys["beta"]).get("/dashboard/batches/b1?point=4").status_code == 404


def test_mapping_editor_filters_rows_by_point(app, keys) -> None:
    client = _signed_in(app, keys["editor"])
    page = client.get(f"/mapping-editor/{SET}/1.0.0?point=3")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert re.search(r"<code>testReportsCompliance</code>", text)
    assert "<code>stateOfHealth</code>" not in text
    assert "Point 3" in text
    point_4 = client.get(f"/mapping-editor/{SET}/1.0.0?point=4").get_data(as_text=True)
    assert (
        "<code>stateOfHealth</code>" in point_4
        and "<code>testReportsCompliance</code>" not in point_4
    )
    refused = client.get(f"/mapping-editor/{SET}/1.0.0?point=authorities")
    assert refused.status_code == 422 and "point must be one of 1, 2, 3, 4" in refused.get_data(
        as_text=True
    )
    anonymous = app.test_client().get(f"/mapping-editor/{SET}/1.0.0?point=3")
    assert anonymous.status_code == 303
    assert (
        _signed_in(app, keys["importer"]).get(f"/mapping-editor/{SET}/1.0.0?point=3").status_code
        == 403
    )


def test_gap_rows_name_their_point(app, keys) -> None:
    gaps = _issue(app, keys["exporter"])["gaps"]
    assert gaps["report"] == "gaps/3"
    rows = {a["key"]: a for a in gaps["attributes"]}
    assert (
        rows["test_reports_compliance"]["point"],
        rows["test_reports_compliance"]["access_group"],
    ) == (
        3,
        "annex-xiii-3",
    )
    assert rows["battery_status"]["point"] == 4
    assert json.dumps(gaps["summary"]["by_section"])  # counts by section
    assert list(gaps["summary"]["by_section"]) == [f"annex-xiii-{n}" for n in (1, 2, 3, 4)]


@pytest.mark.parametrize("item", ["x", "", "-1", "9" * 40])
def test_a_batch_key_the_upload_page_did_not_write_is_no_500(app, keys, item) -> None:
    # Any exporter may send any Idempotency-Key through the API, one that looks like an
    # upload's but names no item number included.
    created = app.test_client().post(
        "/passports",
        data=(RECORDS / "ncm-ev-pack.json").read_bytes(),
        content_type="application/json",
        headers={**keys["exporter"], "Idempotency-Key": f"web-batch:b1#{item}"},
    )
    assert created.status_code == 201, created.get_json()
    assert _signed_in(app, keys["exporter"]).get("/dashboard/batches/b1").status_code == 200
