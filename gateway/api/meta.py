"""Service metadata: health, the OpenAPI contract."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from gateway import __version__
from gateway.paths import OPENAPI_PATH

bp = Blueprint("meta", __name__)


@bp.get("/health")
def health() -> Response:
    settings = current_app.extensions["gateway.settings"]
    return jsonify({"status": "ok", "version": __version__, "mapping": settings.mapping})


@bp.get("/openapi.yaml")
def openapi() -> Response:
    return Response(OPENAPI_PATH.read_text(encoding="utf-8"), mimetype="application/yaml")
