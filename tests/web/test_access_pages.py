"""The pages follow the access rules: the passport page shows each caller the Annex XIII
points it may read, and the exporter's disclosure log page lists who received what."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import RECORDS, grant_body, issue_secrets

CODE = "Z9ZPEN8K52S96AE740000319"
HTML = {"Accept": "text/html"}


@pytest.fixture
def parties(app: Flask, client: FlaskClient) -> dict[str, dict[str, str]]:
    """acme's exporter and importer, an EU recycler with a grant of points 2 and 4, a
    market surveillance authority, and acme's passport of CODE."""
    secrets = issue_secrets(
        app.extensions["gateway.settings"],
        {"acme": ("exporter", "importer"), "recycler": ("importer",), "msa": ("authority",)},
    )
    keys = {
        "exporter": secrets["acme"]["exporter"],
        "importer": secrets["acme"]["importer"],
        "recycler": secrets["recycler"]["importer"],
        "msa": secrets["msa"]["authority"],
    }
    headers = {who: {"Authorization": f"Bearer {s}"} for who, s in keys.items()}
    created = client.post(
        "/passports",
        data=(RECORDS / "ncm-ev-pack.json").read_bytes(),
        content_type="application/json",
        headers=headers["exporter"],
    )
    assert created.status_code == 201, created.get_json()
    granted = client.post(
        "/grants", json=grant_body(reason="recycling"), headers=headers["exporter"]
    )
    assert granted.status_code == 201, granted.get_json()
    return headers


def _sections(client: FlaskClient, headers: dict[str, str] | None = None) -> list[str]:
    page = client.get(f"/passports/{CODE}", headers={**HTML, **(headers or {})})
    assert page.status_code == 200 and page.mimetype == "text/html"
    return re.findall(r'<section class="section section-([a-z0-9-]+)"', page.get_data(as_text=True))


def test_the_passport_page_shows_the_points_each_caller_may_read(client, parties) -> None:
    assert _sections(client) == ["annex-xiii-1"]
    assert _sections(client, parties["importer"]) == ["annex-xiii-1"]  # no grant
    assert _sections(client, parties["recycler"]) == [
        "annex-xiii-1",
        "annex-xiii-2",
        "annex-xiii-4",
    ]
    assert _sections(client, parties["msa"]) == ["annex-xiii-1", "annex-xiii-2", "annex-xiii-3"]
    assert _sections(client, parties["exporter"]) == [
        "annex-xiii-1",
        "annex-xiii-2",
        "annex-xiii-3",
        "annex-xiii-4",
    ]


def test_the_disclosure_log_page(client, parties) -> None:
    _sections(client, parties["recycler"])
    _sections(client, parties["msa"])
    page = client.get("/dashboard/disclosures", headers={**HTML, **parties["exporter"]})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    rows = re.findall(r"<tr><td><time", text)
    assert len(rows) == 2
    assert "recycler / key" in text and "msa / key" in text
    assert "grant:1" in text and "role:authority" in text
    assert text.count("Passport page") == 2  # read through the page, not the API
    # Filtered to another battery: nothing.
    other = client.get(
        "/dashboard/disclosures?batteryCode=Z9ZPBS2ESS2801F5A0000088",
        headers={**HTML, **parties["exporter"]},
    )
    assert "No disclosures recorded." in other.get_data(as_text=True)
    # The dashboard links to it.
    dashboard = client.get("/dashboard", headers={**HTML, **parties["exporter"]})
    assert 'href="/dashboard/disclosures"' in dashboard.get_data(as_text=True)


def test_the_disclosure_log_page_is_the_issuers(client, parties) -> None:
    _sections(client, parties["msa"])
    anonymous = client.get("/dashboard/disclosures", headers=HTML)
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["Location"]
    for who in ("importer", "recycler", "msa"):
        page = client.get("/dashboard/disclosures", headers={**HTML, **parties[who]})
        assert page.status_code == 403
    bad = client.get("/dashboard/disclosures?since=soon", headers={**HTML, **parties["exporter"]})
    assert bad.status_code == 422 and "since" in bad.get_data(as_text=True)
    bad = client.get("/dashboard/disclosures?after=x", headers={**HTML, **parties["exporter"]})
    assert bad.status_code == 422
