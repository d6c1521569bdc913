"""The mapping editor's pages follow the API's rules: draft names checked by the same
function, impact scoped to the signed-in editor's tenant and paged."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.errors import InvalidInput
from gateway.services.mappings import MappingWorkflow
from tests.helpers import RECORDS, issue_keys, make_app

SET = "cn-trace-to-eu-passport"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path / "instance")
    yield app
    app.extensions["gateway.instance"].db.dispose()


@pytest.fixture
def keys(app: Flask) -> dict[str, dict[str, str]]:
    return issue_keys(app.extensions["gateway.settings"])


def _signed_in(app: Flask, header: dict[str, str]) -> tuple[FlaskClient, str]:
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    secret = header["Authorization"].removeprefix("Bearer ")
    signed = client.post("/login", data={"api_key": secret, "csrf_token": token})
    assert signed.status_code == 303
    page = client.get("/mapping-editor").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client, token


def _issue(app: Flask, header: dict[str, str], serial: str) -> dict:
    data = (RECORDS / "ncm-ev-pack.json").read_bytes()
    code = json.loads(data)["battery"]["code"]
    created = app.test_client().post(
        "/passports",
        data=data.replace(code.encode(), (code[:17] + serial).encode()),
        content_type="application/json",
        headers=header,
    )
    assert created.status_code == 201, created.get_json()
    return created.get_json()


@pytest.mark.parametrize("version", ["../../x<script>", "1.0", "01.0.0", "v1.1.0", "１.1.0"])
def test_editor_page_refuses_a_draft_version_the_api_refuses(app, keys, version):
    client, token = _signed_in(app, keys["editor"])
    refused = client.post(
        "/mapping-editor/drafts",
        data={"set": SET, "base_version": "1.0.0", "version": version, "csrf_token": token},
    )
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "<script>" not in text
    assert "semantic version" in text
    api = app.test_client().post(
        f"/mappings/{SET}/versions",
        headers=keys["editor"],
        json={"version": version, "base_version": "1.0.0"},
    )
    assert api.status_code == 422
    workflow = MappingWorkflow(app.extensions["gateway.instance"].db)
    assert [v for v in workflow.versions() if v["status"] == "draft"] == []


def test_editor_page_and_api_share_one_name_check(app, keys, monkeypatch):
    from gateway.mapping import names

    calls = []
    original = names.check_version

    def spy(version, pointer="version"):
        calls.append(version)
        return original(version, pointer)

    monkeypatch.setattr(names, "check_version", spy)
    client, token = _signed_in(app, keys["editor"])
    made = client.post(
        "/mapping-editor/drafts",
        data={"set": SET, "base_version": "1.2.0", "version": "1.3.0", "csrf_token": token},
    )
    assert made.status_code == 303
    assert "1.3.0" in calls
    with pytest.raises(InvalidInput):
        names.check_set_name("../x")


def test_editor_impact_page_shows_only_the_editors_tenant_and_pages(app, keys):
    mine = [_issue(app, keys["exporter"], f"000080{i}") for i in range(3)]
    theirs = _issue(app, keys["beta"], "0000809")
    client, token = _signed_in(app, keys["editor"])
    client.post(
        "/mapping-editor/drafts",
        data={"set": SET, "base_version": "1.2.0", "version": "1.3.0", "csrf_token": token},
    )
    shown = client.get(f"/mapping-editor/{SET}/1.3.0/impact")
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert theirs["batteryCode"] not in text
    assert all(f"{p['id']}</code>" in text for p in mine)
    assert "3 of the 3 stored passports" in text
    assert 'rel="next"' not in text
    later = client.get(f"/mapping-editor/{SET}/1.3.0/impact?after={mine[0]['batteryCode']}")
    text = later.get_data(as_text=True)
    assert f"{mine[0]['id']}</code>" not in text and f"{mine[1]['id']}</code>" in text
    assert "fixtures/records/" not in text
