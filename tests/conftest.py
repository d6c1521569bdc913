from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.services import prepare_instance
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    overrides = {"home": tmp_path / "instance"}
    prepare_instance(Settings.load(overrides))
    return create_app(overrides)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
