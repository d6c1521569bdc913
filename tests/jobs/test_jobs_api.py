"""Bulk jobs over the API: upload -> job id -> progress -> results, each tenant's own."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway import services
from gateway.store import tables
from tests.helpers import (
    RECORDS,
    assert_no_leak,
    assert_problem,
    issue_keys,
    make_app,
    planted_record,
    sensitive_values,
)

NDJSON = "application/x-ndjson"


def _line(record: dict[str, Any] | str) -> bytes:
    if isinstance(record, str):
        record = json.loads((RECORDS / record).read_text("utf-8"))
    return json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"


@pytest.fixture
def jobs_app(tmp_path: Path, backend_url: str) -> Iterator[Flask]:
    # Two records a chunk, so that a few records make several chunks.
    app = make_app(tmp_path / "instance", backend_url, job_chunk_records=2)
    yield app
    app.extensions["gateway.instance"].db.dispose()


@pytest.fixture
def api(jobs_app: Flask) -> FlaskClient:
    return jobs_app.test_client()


@pytest.fixture
def keys(jobs_app: Flask) -> dict[str, dict[str, str]]:
    return issue_keys(jobs_app.extensions["gateway.settings"])


def _work(app: Flask) -> int:
    """Run a worker in this process until no chunk is waiting."""
    return services.work(
        app.extensions["gateway.instance"], stop=threading.Event(), until_idle=True
    )


def _submit(api: FlaskClient, keys: dict[str, dict[str, str]], body: bytes, **query: str) -> Any:
    response = api.post(
        "/jobs", query_string=query, data=body, content_type=NDJSON, headers=keys["exporter"]
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    return response


def _all_results(api: FlaskClient, headers: dict[str, str], job_id: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        page = api.get(
            f"/jobs/{job_id}/results", query_string={"after": after, "limit": 1}, headers=headers
        )
        assert page.status_code == 200
        lines += page.json["items"]
        assert page.json["next"] != after, "a finished job's pages move on"
        after = page.json["next"]
        if after is not None:
            assert page.headers["Link"] == f'</jobs/{job_id}/results?after={after}>; rel="next"'
        else:
            assert "Link" not in page.headers
    return lines


def test_a_job_issues_every_record_once_and_reports_each_as_the_batch_does(
    jobs_app: Flask, api: FlaskClient, keys: dict[str, dict[str, str]]
) -> None:
    planted = planted_record()
    body = (
        _line("ncm-ev-pack.json")
        + b"{not json\n"
        + _line(planted)
        + b"\n"
        + _line("sparse-pack.json")
    )
    response = _submit(api, keys, body, format="jwt")
    job = response.json
    assert response.headers["Location"] == f"/jobs/{job['id']}"
    assert job["state"] == "queued" and job["records"] == 4
    assert job["chunks"] == {"total": 2, "done": 0}
    assert job["outcomes"]["pending"] == 4
    early = api.get(f"/jobs/{job['id']}/results", headers=keys["exporter"]).json
    assert early == {"items": [], "next": 0}  # nothing finished yet: ask again later

    assert _work(jobs_app) == 2
    done = api.get(f"/jobs/{job['id']}", headers=keys["exporter"]).json
    assert done["state"] == "done" and done["finished"]
    assert done["outcomes"] == {"created": 3, "repeated": 0, "refused": 1, "pending": 0}
    lines = _all_results(api, keys["exporter"], job["id"])
    assert [(o["line"], o["outcome"]) for o in lines] == [
        (1, "created"),
        (2, "refused"),
        (3, "created"),
        (5, "created"),
    ]
    # The same outcome line as the batch stream gives for the same input.
    batch = api.post(
        "/passports/batch", data=b"\n{not json\n", content_type=NDJSON, headers=keys["exporter"]
    )
    assert json.loads(batch.get_data().splitlines()[0]) == lines[1]
    # Nothing identifying leaves, in the lines or their credentials.
    assert_no_leak(lines, planted)
    token = lines[0]["credentials"]["annex-xiii-1"]
    assert api.post("/credentials/verify", json={"verifiableCredential": token}).json["verified"]
    listed = api.get("/passports", headers=keys["exporter"]).json["items"]
    assert sorted(p["batteryCode"] for p in listed) == sorted(
        o["batteryCode"] for o in lines if "batteryCode" in o
    )


def test_stored_input_is_sealed_and_deleted_once_its_chunk_is_done(
    jobs_app: Flask, api: FlaskClient, keys: dict[str, dict[str, str]]
) -> None:
    planted = planted_record()
    job = _submit(api, keys, _line(planted)).json
    db = jobs_app.extensions["gateway.instance"].db
    with db.reading() as session:
        (sealed,) = session.scalars(select(tables.JobChunk.input_sealed)).all()
    assert sealed is not None
    for value in [*sensitive_values(planted), planted["battery"]["code"]]:
        assert value.encode("utf-8") not in sealed
    _work(jobs_app)
    with db.reading() as session:
        chunk = session.scalars(select(tables.JobChunk)).one()
    assert chunk.input_sealed is None and chunk.state == "done"
    assert chunk.results_sealed is not None
    assert planted["battery"]["code"].encode() not in chunk.results_sealed
    assert api.get(f"/jobs/{job['id']}", headers=keys["exporter"]).json["state"] == "done"


def test_a_job_is_its_tenants_alone(
    jobs_app: Flask, api: FlaskClient, keys: dict[str, dict[str, str]]
) -> None:
    job_id = _submit(api, keys, _line("sparse-pack.json")).json["id"]
    for path in (f"/jobs/{job_id}", f"/jobs/{job_id}/results"):
        assert_problem(api.get(path), 401)
        assert_problem(api.get(path, headers=keys["importer"]), 403)
        assert_problem(api.get(path, headers=keys["beta"]), 404, "not-found")
        assert api.get(path, headers=keys["admin"]).status_code == 200  # same tenant
    for bad in ("0" * 31, "x" * 32, "%00" * 32, "A" * 32):
        assert_problem(api.get(f"/jobs/{bad}", headers=keys["exporter"]), 404)


def test_jobs_are_listed_newest_first_a_page_at_a_time_each_tenants_own(
    jobs_app: Flask, api: FlaskClient, keys: dict[str, dict[str, str]]
) -> None:
    ids = [_submit(api, keys, _line("sparse-pack.json")).json["id"] for _ in range(3)]
    first = api.get("/jobs", query_string={"limit": 2}, headers=keys["exporter"])
    assert first.status_code == 200
    assert [j["id"] for j in first.json["items"]] == ids[::-1][:2]
    assert first.json["items"][0]["results"] == f"/jobs/{ids[2]}/results"
    assert {j["tenant"] for j in first.json["items"]} == {"acme"}
    assert first.json["next"] == ids[1] and 'rel="next"' in first.headers["Link"]
    rest = api.get(
        "/jobs", query_string={"limit": 2, "after": first.json["next"]}, headers=keys["admin"]
    )
    assert [j["id"] for j in rest.json["items"]] == [ids[0]] and rest.json["next"] is None
    # Another tenant's callers see none of them, and cannot page from one.
    assert api.get("/jobs", headers=keys["beta"]).json == {"items": [], "next": None}
    assert_problem(api.get("/jobs", query_string={"after": ids[0]}, headers=keys["beta"]), 404)
    assert_problem(api.get("/jobs"), 401)
    assert_problem(api.get("/jobs", headers=keys["importer"]), 403)
    for query in ({"limit": "0"}, {"limit": "1001"}, {"limit": "x"}, {"limit": "9" * 40}):
        body = assert_problem(api.get("/jobs", query_string=query, headers=keys["exporter"]), 422)
        assert body["pointer"] == "limit"
    for bad in ("0" * 31, "%00", "A" * 32, "x" * 5000):
        body = assert_problem(
            api.get("/jobs", query_string={"after": bad}, headers=keys["exporter"]), 404
        )
        assert body["pointer"] == "after" and bad not in body["detail"]


def test_finished_jobs_are_kept_for_the_retention_setting(
    jobs_app: Flask, api: FlaskClient, keys: dict[str, dict[str, str]]
) -> None:
    job_id = _submit(api, keys, _line("sparse-pack.json")).json["id"]
    waiting = _submit(api, keys, _line("lfp-storage-pack.json")).json["id"]
    instance = jobs_app.extensions["gateway.instance"]
    with instance.db.transaction() as session:
        # The first job is done, 31 days ago; the second is still queued.
        job = session.get(tables.Job, job_id)
        assert job is not None
        job.state = "done"
        job.finished_at = tables.utcnow() - timedelta(days=31)
    assert instance.settings.job_retention_days == 30
    _work(jobs_app)
    assert_problem(api.get(f"/jobs/{job_id}", headers=keys["exporter"]), 404)
    with instance.db.reading() as session:
        left = session.scalars(select(tables.JobChunk.job_id)).all()
    assert set(left) == {waiting}
    assert api.get(f"/jobs/{waiting}", headers=keys["exporter"]).json["state"] == "done"


def test_refused_submissions_leave_nothing(
    jobs_app: Flask, api: FlaskClient, keys: dict[str, dict[str, str]]
) -> None:
    body = _line("sparse-pack.json")
    assert_problem(api.post("/jobs", data=body, content_type=NDJSON), 401)
    assert_problem(api.post("/jobs", data=body, content_type=NDJSON, headers=keys["importer"]), 403)
    assert_problem(
        api.post("/jobs", data=body, content_type="application/json", headers=keys["exporter"]), 415
    )
    assert_problem(
        api.post("/jobs?format=ldp", data=body, content_type=NDJSON, headers=keys["exporter"]), 422
    )
    body422 = assert_problem(
        api.post(
            "/jobs?mapping=NOT A REF", data=body, content_type=NDJSON, headers=keys["exporter"]
        ),
        422,
    )
    assert body422["pointer"] == "mapping"
    assert_problem(
        api.post(
            "/jobs?mapping=cn-trace-to-eu-passport@9.9.9",
            data=body,
            content_type=NDJSON,
            headers=keys["exporter"],
        ),
        404,
    )
    with jobs_app.extensions["gateway.instance"].db.reading() as session:
        assert session.scalars(select(tables.Job.id)).all() == []
    job_id = _submit(api, keys, body).json["id"]
    for query in ({"after": "-1"}, {"after": "x"}, {"limit": "0"}, {"after": "9" * 20}):
        problem = assert_problem(
            api.get(f"/jobs/{job_id}/results", query_string=query, headers=keys["exporter"]), 422
        )
        assert problem["pointer"] in query


def test_an_oversized_job_is_refused_whole_and_a_long_line_alone(tmp_path: Path) -> None:
    app = make_app(tmp_path / "instance", max_job_records=2, max_body_bytes=8000)
    keys = issue_keys(app.extensions["gateway.settings"])
    api = app.test_client()
    try:
        body = _line("sparse-pack.json") * 3
        problem = assert_problem(
            api.post("/jobs", data=body, content_type=NDJSON, headers=keys["exporter"]), 413
        )
        assert "2 records" in problem["detail"]
        with app.extensions["gateway.instance"].db.reading() as session:
            assert session.scalars(select(tables.Job.id)).all() == []
            assert session.scalars(select(tables.JobChunk.id)).all() == []
        long = b'{"pad": "' + b"x" * 9000 + b'"}\n'
        job = _submit(api, keys, long + b"\xff\xfe{}\n").json
        _work(app)
        lines = _all_results(api, keys["exporter"], job["id"])
        assert [(o["line"], o["outcome"], o["problem"]["status"]) for o in lines] == [
            (1, "refused", 413),
            (2, "refused", 400),
        ]
    finally:
        app.extensions["gateway.instance"].db.dispose()
