from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.app import create_app

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return create_app({"home": tmp_path / "instance"})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
