"""Every error path answers with an RFC 9457 problem naming the field."""

from __future__ import annotations

from tests.helpers import RECORDS, assert_problem, issue_keys, make_app


def test_unknown_key_is_401_even_where_none_is_needed(api) -> None:
    response = api.get("/passports/X", headers={"Authorization": "Bearer nope-nope-nope"})
    body = assert_problem(response, 401, "unauthorized")
    assert body["pointer"] == "Authorization"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(api.get("/passports", headers={"Authorization": "Basic abc"}), 401)


def test_not_found_and_method_not_allowed(api) -> None:
    assert_problem(api.get("/passports/Z9ZPEN8K52S96AE740000319"), 404, "not-found")
    assert_problem(api.get("/status-lists/revocation-99"), 404, "not-found")
    assert_problem(api.get("/contexts/nope"), 404, "not-found")
    assert_problem(api.get("/no/such/route"), 404, "not-found")
    response = api.delete("/passports")
    assert_problem(response, 405, "method-not-allowed")
    assert "POST" in response.headers["Allow"]


def test_wrong_content_type(api, keys) -> None:
    body = assert_problem(
        api.post("/passports", data=b"code=1", content_type="text/plain", headers=keys["exporter"]),
        415,
        "unsupported-media-type",
    )
    assert "application/json" in body["detail"]
    assert_problem(
        api.post("/credentials/verify", data=b"x", content_type="text/plain"),
        415,
        "unsupported-media-type",
    )
    assert_problem(api.post("/passports", data=b"{}", headers=keys["exporter"]), 415)


def test_body_too_large(tmp_path) -> None:
    app = make_app(tmp_path / "instance", max_body_bytes=1000)
    keys = issue_keys(app.extensions["gateway.settings"])
    api = app.test_client()
    body = assert_problem(
        api.post(
            "/passports",
            data=b"{" + b" " * 2000 + b"}",
            content_type="application/json",
            headers=keys["exporter"],
        ),
        413,
        "body-too-large",
    )
    assert "1000" in body["detail"]
    assert_problem(
        api.post("/credentials/verify", data=b"x" * 2000, content_type="application/vc+jwt"),
        413,
        "body-too-large",
    )
    app.extensions["gateway.instance"].db.dispose()


def test_xml_with_doctype_is_refused(api, keys) -> None:
    xml = (RECORDS / "ncm-ev-pack.xml").read_bytes()
    head, _, rest = xml.partition(b"?>")
    hostile = head + b'?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + rest
    response = api.post(
        "/passports", data=hostile, content_type="application/xml", headers=keys["exporter"]
    )
    assert_problem(response, 400, "unsafe-input")
    assert b"root:" not in response.data


def test_invalid_record_names_each_field(api, keys) -> None:
    body = assert_problem(
        api.post("/passports", json={"battery": {"code": 12}}, headers=keys["exporter"]),
        422,
        "invalid-record",
    )
    assert body["errors"] and all("pointer" in e for e in body["errors"])


def test_malformed_json_and_schema_errors(api, keys) -> None:
    assert_problem(
        api.post("/credentials/verify", data=b"{", content_type="application/json"),
        400,
        "malformed-body",
    )
    body = assert_problem(
        api.post("/credentials/verify", json={"credential": {}}), 422, "invalid-input"
    )
    assert body["errors"][0]["pointer"] in ("", "/")
    body = assert_problem(
        api.post("/passports/X/revoke", json={"reason": 5}, headers=keys["admin"]),
        422,
        "invalid-input",
    )
    assert body["pointer"] == "/reason"


def test_query_parameters_are_checked(api, keys, record_json) -> None:
    body = assert_problem(
        api.post(
            "/passports?format=pdf",
            data=record_json,
            content_type="application/json",
            headers=keys["exporter"],
        ),
        422,
        "invalid-input",
    )
    assert body["pointer"] == "format"
    assert_problem(
        api.post(
            "/passports?mapping=nope",
            data=record_json,
            content_type="application/json",
            headers=keys["exporter"],
        ),
        422,
    )
    assert_problem(
        api.post(
            "/passports?mapping=nope@9.9.9",
            data=record_json,
            content_type="application/json",
            headers=keys["exporter"],
        ),
        404,
        "mapping-not-found",
    )
    assert_problem(api.get("/passports?limit=0", headers=keys["admin"]), 422)
    assert_problem(api.get("/passports?limit=x", headers=keys["admin"]), 422)
    assert_problem(api.get("/passports?status=gone", headers=keys["admin"]), 422)


def test_a_failed_verification_is_a_problem_carrying_the_verdict(api) -> None:
    # W3C VC API: 200 only for a verified credential; the checks stay in the problem.
    response = api.post("/credentials/verify", json={"verifiableCredential": {"a": 1}})
    body = assert_problem(response, 400, "verification-failed")
    assert body["verified"] is False and body["checks"]


def test_bad_battery_code(api) -> None:
    assert_problem(api.get("/codes/ABC"), 422, "invalid-battery-code")
