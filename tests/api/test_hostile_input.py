"""Hostile request bodies get a 4xx (or a 503 for a locked store) with a reason, never a
500, a truncated body taken as whole, or a traceback."""

from __future__ import annotations

import io
import sqlite3

import pytest

from gateway.api.telemetry import MAX_LINE_BYTES
from gateway.store import db as store_db
from tests.helpers import ROOT, assert_problem, issue_keys, make_app

WHITELIST = ROOT / "gateway" / "compliance" / "data" / "whitelist.csv"

CHUNKED = {"Transfer-Encoding": "chunked"}
# What gunicorn sets for a chunked body: it ends the stream itself, there is no length.
TERMINATED = {"wsgi.input_terminated": True}


def _chunked(client, path: str, body: bytes, content_type: str, headers=None):
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        content_type=content_type,
        headers={**CHUNKED, **(headers or {})},
        environ_overrides=TERMINATED,
    )


@pytest.fixture
def small(tmp_path):
    """An app whose body limit is 1,000 bytes, and its keys."""
    app = make_app(tmp_path / "instance", max_body_bytes=1000)
    keys = issue_keys(app.extensions["gateway.settings"])
    yield app.test_client(), keys
    app.extensions["gateway.instance"].db.dispose()


def test_a_chunked_body_over_the_limit_is_refused_like_a_declared_one(small) -> None:
    api, keys = small
    # The shipped white-list and one more row: over the limit only by that row.
    whitelist = (
        WHITELIST.read_bytes()
        + "1,工业和信息化部公告2018年第40号,2018-09-03,浙江,"
        "某某循环科技有限公司,Example Recycling Co. Ltd.,unknown,listed,,"
        "MIIT-2018-40-99\n".encode()
    )
    assert len(whitelist) > 1000
    body = assert_problem(
        _chunked(api, "/whitelist", whitelist, "text/csv", keys["admin"]), 413, "body-too-large"
    )
    assert "1000" in body["detail"]
    padded = b"{" + b" " * 2000 + b"}"
    assert_problem(
        _chunked(api, "/credentials/verify", padded, "application/json"), 413, "body-too-large"
    )
    table = b"# curie_map:\n" + b"#   x: https://example.org/\n" * 100
    assert_problem(
        _chunked(api, "/mappings/import", table, "text/tab-separated-values", keys["editor"]),
        413,
        "body-too-large",
    )


def test_a_chunked_body_within_the_limit_is_read_whole(small) -> None:
    api, _ = small
    exact = b"{" + b" " * 998 + b"}"
    # Read whole: it is a JSON object, so the schema (not the parser) refuses it.
    assert_problem(
        _chunked(api, "/credentials/verify", exact, "application/json"), 422, "invalid-input"
    )


def test_deep_json_is_a_400_naming_the_depth(api, keys) -> None:
    deep = b"[" * 1000 + b"]" * 1000
    body = assert_problem(
        api.post("/credentials/verify", data=deep, content_type="application/json"),
        400,
        "malformed-body",
    )
    assert "64 levels" in body["detail"]
    nested = b'{"reason": ' + b'{"a": ' * 1000 + b"1" + b"}" * 1000 + b"}"
    assert_problem(
        api.post(
            "/passports/X/revoke",
            data=nested,
            content_type="application/json",
            headers=keys["admin"],
        ),
        400,
        "malformed-body",
    )


def test_repeated_members_and_non_finite_numbers_are_refused(api) -> None:
    body = assert_problem(
        api.post(
            "/credentials/verify",
            data=b'{"verifiableCredential": {}, "verifiableCredential": 1}',
            content_type="application/json",
        ),
        400,
        "malformed-body",
    )
    assert "twice" in body["detail"]
    assert_problem(
        api.post("/credentials/verify", data=b'{"options": NaN}', content_type="application/json"),
        400,
        "malformed-body",
    )


def test_a_mapping_table_that_is_not_utf8_names_the_byte(api, keys) -> None:
    table = "# mapping_set_id: x\nsubject_id\tobject_id\nbattery.code\tcafé\n".encode("latin-1")
    body = assert_problem(
        api.post(
            "/mappings/import",
            data=table,
            content_type="text/tab-separated-values",
            headers=keys["editor"],
        ),
        400,
        "malformed-body",
    )
    at = table.index("é".encode("latin-1"))
    assert body["pointer"] == f"byte {at}" and f"byte {at}" in body["detail"]


def test_a_telemetry_line_longer_than_any_frame_is_refused_naming_it(api, keys) -> None:
    line = b"23" * (MAX_LINE_BYTES // 2 + 10)
    body = b"232302FE00\n" + line + b"\n"
    query = {"battery_code": "Z9ZPBA10000001F3F0000123"}
    problem = assert_problem(
        api.post(
            "/telemetry/aggregate",
            data=body,
            content_type="text/plain",
            query_string=query,
            headers=keys["exporter"],
        ),
        413,
        "body-too-large",
    )
    assert problem["pointer"] == "line 2"
    # The same through a chunked upload.
    problem = assert_problem(
        api.post(
            "/telemetry/aggregate",
            input_stream=io.BytesIO(body),
            content_type="text/plain",
            query_string=query,
            headers={**CHUNKED, **keys["exporter"]},
            environ_overrides=TERMINATED,
        ),
        413,
        "body-too-large",
    )
    assert problem["pointer"] == "line 2"


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    # Connections made from now on wait 0.2 s for a lock instead of 30 s.
    monkeypatch.setattr(store_db, "SQLITE_BUSY_TIMEOUT_MS", 200)


def _hold_write_lock(path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_locked_store_is_a_503_with_retry_after(
    tmp_path, short_busy_timeout, record_json
) -> None:
    app = make_app(tmp_path / "instance")
    keys = issue_keys(app.extensions["gateway.settings"])
    holder = _hold_write_lock(tmp_path / "instance" / "gateway.sqlite")
    try:
        response = app.test_client().post(
            "/passports",
            data=record_json,
            content_type="application/json",
            headers=keys["exporter"],
        )
    finally:
        holder.rollback()
        holder.close()
        app.extensions["gateway.instance"].db.dispose()
    body = assert_problem(response, 503, "database-busy")
    assert int(response.headers["Retry-After"]) > 0
    assert "locked" in body["detail"]


def test_a_locked_store_is_one_line_in_the_cli(
    runner, tmp_path, short_busy_timeout, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(tmp_path / "instance")
    app.extensions["gateway.instance"].db.dispose()
    monkeypatch.delenv("DATABASE_URL", raising=False)
    holder = _hold_write_lock(tmp_path / "instance" / "gateway.sqlite")
    try:
        result = runner.invoke(args=["tenants", "create", "acme"])
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == 1
    assert result.output.lower().startswith("error: ") and "locked" in result.output
    assert result.output.count("\n") == 1
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
