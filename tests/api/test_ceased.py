"""Art. 77(8): a recycled battery gets no passport, and an existing one ceases.

The passport ceases either when a record whose last event is a completed recycling is
submitted for a battery that has one, or by ``POST /passports/{code}/cease``; it is kept,
shown as ceased everywhere its status is told (EN 18223 ``dppStatus``), and its
credentials still verify as what was true when they were signed.
"""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta

from gateway.services import audit_entries
from tests.helpers import RECORDS, assert_problem, issue_keys, make_app

NCM = "Z9ZPEN8K52S96AE740000319"
EOL = json.loads((RECORDS / "end-of-life-pack.json").read_text(encoding="utf-8"))
#: The end-of-life fixture's recycling, its last event.
RECYCLING = EOL["events"][-1]


def _recycled_ncm() -> dict:
    """The NCM pack's record with a completed recycling after its last event."""
    record = json.loads((RECORDS / "ncm-ev-pack.json").read_text(encoding="utf-8"))
    event = copy.deepcopy(RECYCLING)
    event["date"], event["reported_on"] = "2026-09-01", "2026-09-05"
    record["events"].append(event)
    return record


def _assert_status_clear(api, credential: dict) -> None:
    """Every status list entry of the credential reads clear, and its proof verifies."""
    checks = api.post("/credentials/verify", json={"verifiableCredential": credential}).json
    status = [c for c in checks["checks"] if c["id"].startswith("status.")]
    assert status and all(c["ok"] for c in status), checks
    assert all(c["ok"] for c in checks["checks"] if c["id"].startswith("proof")), checks


def _issue(api, keys, body: bytes, role: str = "exporter"):
    return api.post("/passports", data=body, content_type="application/json", headers=keys[role])


def _public(api, keys) -> dict:
    created = _issue(api, keys, (RECORDS / "ncm-ev-pack.json").read_bytes())
    assert created.status_code == 201, created.json
    return created.json["credentials"]["annex-xiii-1"]


def test_recycled_record_is_refused_and_ceases_the_passport(tmp_path, backend_url) -> None:
    app = make_app(tmp_path / "instance", backend_url)
    try:
        api = app.test_client()
        keys = issue_keys(app.extensions["gateway.settings"])
        public = _public(api, keys)
        assert api.get(f"/passports/{NCM}").json["dppStatus"] == "active"

        record = _recycled_ncm()
        refused = _issue(api, keys, json.dumps(record).encode())
        problem = assert_problem(refused, 422, "battery-recycled")
        last = len(record["events"]) - 1
        assert problem["pointer"] == f"/events/{last}"
        assert problem["recycledOn"] == "2026-09-01"
        assert (
            "Art. 77(8)" in problem["detail"] and "has ceased as of 2026-09-01" in problem["detail"]
        )

        # Kept, shown as ceased: the presentation, the EN 18223 metadata, the list.
        shown = api.get(f"/passports/{NCM}")
        assert shown.status_code == 200 and shown.json["dppStatus"] == "ceased"
        assert len(shown.json["verifiableCredential"]) == 1
        assert api.get(f"/passports/{NCM}/metadata").json["dppStatus"] == "ceased"
        listed = api.get("/passports?status=ceased", headers=keys["exporter"]).json["items"]
        assert [(p["batteryCode"], p["ceasedOn"]) for p in listed] == [(NCM, "2026-09-01")]
        payload = api.get(f"/passports/{NCM}/registration-payload", headers=keys["exporter"])
        assert payload.status_code == 200 and payload.json["dppStatus"] == "ceased"

        # What was signed stays true as signed: no status bit was set.
        _assert_status_clear(api, public)

        # Audited once; a second submission ceases nothing more.
        again = assert_problem(_issue(api, keys, json.dumps(record).encode()), 422)
        assert "ceased on 2026-09-01" in again["detail"]
        instance = app.extensions["gateway.instance"]
        ceased = [e for e in audit_entries(instance.db) if e.action == "passport.ceased"]
        assert len(ceased) == 1 and ceased[0].data["recycled_on"] == "2026-09-01"
        # Ceased is final.
        assert_problem(api.post(f"/passports/{NCM}/revoke", headers=keys["exporter"]), 409)
    finally:
        app.extensions["gateway.instance"].db.dispose()


def test_the_end_of_life_fixture_gets_no_passport(api, keys) -> None:
    refused = _issue(api, keys, (RECORDS / "end-of-life-pack.json").read_bytes())
    problem = assert_problem(refused, 422, "battery-recycled")
    assert problem["pointer"] == f"/events/{len(EOL['events']) - 1}"
    assert problem["recycledOn"] == RECYCLING["date"]
    assert "has ceased" not in problem["detail"]
    assert api.get("/passports", headers=keys["exporter"]).json["items"] == []
    # The batch refuses the line and keeps the others.
    lines = b"".join(
        (RECORDS / name).read_bytes().replace(b"\n", b"") + b"\n"
        for name in ("end-of-life-pack.json", "lfp-storage-pack.json")
    )
    batch = api.post(
        "/passports/batch",
        data=lines,
        content_type="application/x-ndjson",
        headers=keys["exporter"],
    )
    outcomes = [json.loads(line) for line in batch.data.splitlines()]
    assert [o["outcome"] for o in outcomes] == ["refused", "created"]
    assert outcomes[0]["problem"]["type"].endswith("/battery-recycled")
    assert outcomes[0]["problem"]["pointer"] == "/events/5"


def test_another_tenants_recycled_record_changes_nothing(api, keys) -> None:
    _public(api, keys)
    refused = _issue(api, keys, json.dumps(_recycled_ncm()).encode(), role="beta")
    problem = assert_problem(refused, 422, "battery-recycled")
    assert "passport" not in problem["detail"].split("so none is issued")[1]
    assert api.get(f"/passports/{NCM}").json["dppStatus"] == "active"


def test_cease_by_call(api, keys) -> None:
    public = _public(api, keys)
    url = f"/passports/{NCM}/cease"
    body = {"recycledOn": "2026-10-02", "reason": "recycled at the licensed outlet"}
    assert_problem(api.post(url, json=body), 401)
    assert_problem(api.post(url, json=body, headers=keys["importer"]), 403)
    assert_problem(api.post(url, json=body, headers=keys["beta"]), 403)
    assert_problem(
        api.post("/passports/Z9ZPEN8K52S96AE740000999/cease", json=body, headers=keys["exporter"]),
        404,
    )
    # Malformed and hostile bodies: 4xx naming the field.
    assert_problem(
        api.post(url, data=b"{", content_type="application/json", headers=keys["exporter"]), 400
    )
    assert_problem(
        api.post(url, data=b"", content_type="application/json", headers=keys["exporter"]), 400
    )
    for bad in (
        {},
        {"recycledOn": 20261002},
        {"recycledOn": "2026-13-40"},
        {"recycledOn": "x" * 5000},
        {"recycledOn": "2026-10-02", "extra": 1},
        {"recycledOn": "2026-10-02", "reason": "r" * 1001},
    ):
        problem = assert_problem(api.post(url, json=bad, headers=keys["exporter"]), 422)
        assert "x" * 100 not in json.dumps(problem)
    future = (date.today() + timedelta(days=3)).isoformat()
    problem = assert_problem(
        api.post(url, json={"recycledOn": future}, headers=keys["exporter"]), 422
    )
    assert problem["pointer"] == "/recycledOn"

    ceased = api.post(url, json=body, headers=keys["exporter"])
    assert ceased.status_code == 200, ceased.json
    assert ceased.json["status"] == "ceased" and ceased.json["ceasedOn"] == "2026-10-02"
    # The same call again answers the same; another day is a conflict.
    assert api.post(url, json=body, headers=keys["exporter"]).json == ceased.json
    assert_problem(api.post(url, json={"recycledOn": "2026-10-03"}, headers=keys["exporter"]), 409)
    assert api.get(f"/passports/{NCM}/metadata").json["dppStatus"] == "ceased"
    _assert_status_clear(api, public)

    aas = api.get(f"/passports/{NCM}", headers={"Accept": "application/aas+json"})
    assert aas.status_code == 200 and '"ceased"' in aas.get_data(as_text=True)
    page = api.get(f"/passports/{NCM}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="ceased"' in text and "2026-10-02" in text and "Art. 77(8)" in text


def test_a_suspended_passport_does_not_cease(api, keys) -> None:
    _public(api, keys)
    assert api.post(f"/passports/{NCM}/suspend", headers=keys["exporter"]).status_code == 200
    conflict = api.post(
        f"/passports/{NCM}/cease", json={"recycledOn": "2026-10-02"}, headers=keys["exporter"]
    )
    assert_problem(conflict, 409)
    refused = assert_problem(_issue(api, keys, json.dumps(_recycled_ncm()).encode()), 422)
    assert "is suspended" in refused["detail"]
    assert api.get(f"/passports/{NCM}/metadata").json["dppStatus"] == "suspended"
