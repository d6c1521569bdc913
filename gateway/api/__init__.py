"""HTTP API: Flask blueprints only. Each parses, calls a service, renders."""

from __future__ import annotations

from flask import Flask
from flask_swagger_ui import get_swaggerui_blueprint

from gateway.api import (
    access,
    approvals,
    credentials,
    evidence,
    identifiers,
    jobs,
    mappings,
    meta,
    passports,
    problems,
    public,
    registry,
    resolver,
    telemetry,
    tenant_policy,
    whitelist,
)


def register(app: Flask) -> None:
    problems.register(app)
    app.register_blueprint(meta.bp)
    app.register_blueprint(passports.bp)
    app.register_blueprint(credentials.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(evidence.bp)
    app.register_blueprint(whitelist.bp)
    app.register_blueprint(mappings.bp)
    app.register_blueprint(telemetry.bp)
    app.register_blueprint(registry.bp)
    app.register_blueprint(approvals.bp)
    app.register_blueprint(tenant_policy.bp)
    app.register_blueprint(access.bp)
    app.register_blueprint(identifiers.bp)
    app.register_blueprint(resolver.bp)
    app.register_blueprint(jobs.bp)
    # Swagger UI's assets come from the flask-swagger-ui package: no CDN at run time.
    app.register_blueprint(
        get_swaggerui_blueprint(
            "/docs",
            "/openapi.yaml",
            config={"app_name": "Battery Passport Gateway API"},
            blueprint_name="docs",
        )
    )
