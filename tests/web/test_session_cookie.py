"""The pages' session cookie is opened only when a request carries one."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface


@pytest.fixture
def signers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    built: list[int] = []
    original = SecureCookieSessionInterface.get_signing_serializer

    def counted(self: Any, app: Flask) -> Any:
        built.append(1)
        return original(self, app)

    monkeypatch.setattr(SecureCookieSessionInterface, "get_signing_serializer", counted)
    return built


def test_a_request_without_the_cookie_builds_no_signer(app: Flask, signers: list[int]) -> None:
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert signers == []
    assert "Set-Cookie" not in response.headers


def test_a_request_with_the_cookie_reads_it_as_flask_does(app: Flask, signers: list[int]) -> None:
    interface = app.session_interface
    cookie = interface.get_signing_serializer(app).dumps({"csrf": "abc"})  # type: ignore[union-attr]
    name = interface.get_cookie_name(app)
    with app.test_request_context("/", headers={"Cookie": f"{name}={cookie}"}):
        assert session.get("csrf") == "abc"
    # A cookie whose signature does not match is an empty session, as in Flask.
    with app.test_request_context("/", headers={"Cookie": f"{name}={cookie[:-2]}xx"}):
        assert dict(session) == {}
    assert len(signers) == 3
