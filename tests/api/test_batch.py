"""Bulk conversion: NDJSON in, one outcome line per record out."""

from __future__ import annotations

import json

from gateway.annex_xiii import SECTIONS
from tests.helpers import RECORDS

NDJSON = "application/x-ndjson"
GOOD = ["ncm-ev-pack.json", "sparse-pack.json", "lfp-storage-pack.json"]


def _line(name: str) -> bytes:
    return json.dumps(json.loads((RECORDS / name).read_text())).encode() + b"\n"


def _batch(api, keys, body: bytes, **headers):
    response = api.post(
        "/passports/batch?format=jwt",
        data=body,
        content_type=NDJSON,
        headers={**keys["exporter"], **headers},
    )
    assert response.status_code == 200 and response.mimetype == NDJSON
    return [json.loads(line) for line in response.get_data().splitlines()]


def test_a_bad_line_is_refused_and_the_others_created(api, keys) -> None:
    bad = json.loads((RECORDS / "sparse-pack.json").read_text())
    bad["battery"]["code"] = "NOT-A-CODE"
    body = (
        _line(GOOD[0])
        + b"{not json\n"
        + json.dumps(bad).encode()
        + b"\n\n"
        + _line(GOOD[1])
        + _line(GOOD[2])
    )
    outcomes = _batch(api, keys, body)
    assert [(o["line"], o["outcome"]) for o in outcomes] == [
        (1, "created"),
        (2, "refused"),
        (3, "refused"),
        (5, "created"),
        (6, "created"),
    ]
    assert outcomes[1]["problem"]["status"] in (400, 422)
    assert outcomes[2]["problem"]["type"].endswith("/invalid-record") or outcomes[2]["problem"][
        "type"
    ].endswith("/invalid-battery-code")
    assert outcomes[2]["problem"]["pointer"].startswith("/battery/code")
    assert list(outcomes[0]["credentials"]) == list(SECTIONS)  # one per Annex XIII point
    listed = api.get("/passports", headers=keys["exporter"]).json["items"]
    assert len(listed) == 3
    # Each passport's credentials verify against the status lists the batch allocated.
    token = outcomes[3]["credentials"]["annex-xiii-1"]
    assert api.post("/credentials/verify", json={"verifiableCredential": token}).json["verified"]


def test_repeating_with_the_same_key_makes_no_duplicates(api, keys) -> None:
    body = b"".join(_line(n) for n in GOOD)
    first = _batch(api, keys, body[: len(_line(GOOD[0]))], **{"Idempotency-Key": "bulk-1"})
    assert [o["outcome"] for o in first] == ["created"]
    # The first request broke after one record; the retry sends them all again.
    again = _batch(api, keys, body, **{"Idempotency-Key": "bulk-1"})
    assert [o["outcome"] for o in again] == ["repeated", "created", "created"]
    assert again[0]["credentials"] == first[0]["credentials"]
    assert len(api.get("/passports", headers=keys["exporter"]).json["items"]) == 3
    # Without the key, a repeat is refused per record instead of duplicated.
    third = _batch(api, keys, body)
    assert {o["outcome"] for o in third} == {"refused"}
    assert {o["problem"]["status"] for o in third} == {409}


def test_a_line_over_the_limit_is_refused_alone(tmp_path) -> None:
    from tests.helpers import issue_keys, make_app

    app = make_app(tmp_path / "instance", max_body_bytes=8000)
    keys = issue_keys(app.extensions["gateway.settings"])
    long_line = b'{"battery": {"code": "' + b"x" * 20000 + b'"}}\n'
    body = long_line + _line("sparse-pack.json")
    outcomes = _batch(app.test_client(), keys, body)
    assert [o["outcome"] for o in outcomes] == ["refused", "created"]
    assert outcomes[0]["problem"]["status"] == 413
    app.extensions["gateway.instance"].db.dispose()


def test_batch_needs_ndjson_and_an_issuer(api, keys) -> None:
    response = api.post(
        "/passports/batch", data=b"{}", content_type="application/json", headers=keys["exporter"]
    )
    assert response.status_code == 415
    response = api.post(
        "/passports/batch", data=b"{}\n", content_type=NDJSON, headers=keys["importer"]
    )
    assert response.status_code == 403
    assert api.post("/passports/batch", data=b"{}\n", content_type=NDJSON).status_code == 401
