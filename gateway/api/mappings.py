"""Mapping tables for standards teams: versions, drafts, diff, impact, publish."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from gateway import auth
from gateway.api import http
from gateway.errors import InvalidInput, MalformedBody, UnsupportedMediaType
from gateway.mapping.model import MappingSet
from gateway.services.mappings import IMPACT_PAGE, MAX_IMPACT_PAGE, MappingWorkflow

bp = Blueprint("mappings", __name__)
TSV = "text/tab-separated-values"


def _workflow(*, edit: bool) -> MappingWorkflow:
    """The workflow as the caller; editing needs the editor (or admin) role."""
    principal = http.principal()
    if edit:
        auth.require(principal, auth.may_edit_mappings(principal), "edit mapping tables")
    # The tenant and key of the editor: mapping edits are audited like every change.
    return MappingWorkflow(http.instance().db, actor=auth.audit_actor(principal))


def _ref(set_id: str, version: str) -> str:
    return f"{set_id}@{version}"


def _table(table: MappingSet, status: str | None = None) -> dict[str, Any]:
    return {
        "mapping": table.ref,
        "set": table.set_id,
        "version": table.version,
        "status": status,
        "hash": table.content_hash,
        "rows": [
            {
                "row": r.number,
                **{k: v for k, v in r.cells().items() if k != "transform_params"},
                "transform_params": dict(r.params),
            }
            for r in table.rows
        ],
    }


@bp.get("/mappings")
def list_versions() -> Response:
    return jsonify({"versions": _workflow(edit=False).versions()})


@bp.get("/mappings/<set_id>/versions/<version>")
def get_version(set_id: str, version: str) -> Response:
    workflow = _workflow(edit=False)
    ref = _ref(set_id, version)
    if request.accept_mimetypes.best_match(["application/json", TSV]) == TSV:
        return Response(workflow.export(ref), mimetype=TSV)
    return jsonify(_table(workflow.table(ref), workflow.info(ref).status))


@bp.post("/mappings/<set_id>/versions")
def create_draft(set_id: str) -> Response:
    body = http.json_body("DraftRequest")
    workflow = _workflow(edit=True)
    table = workflow.create_draft(set_id, body["version"], body["base_version"])
    response = jsonify(_table(table, "draft"))
    response.status_code = 201
    response.headers["Location"] = f"/mappings/{set_id}/versions/{table.version}"
    return response


@bp.patch("/mappings/<set_id>/versions/<version>")
def edit_draft(set_id: str, version: str) -> Response:
    body = http.json_body("DraftEdit")
    table, problems = _workflow(edit=True).edit(
        _ref(set_id, version),
        add=body.get("add", []),
        change={int(k): v for k, v in body.get("change", {}).items()},
        remove=body.get("remove", []),
    )
    return jsonify({**_table(table, "draft"), "problems": [p.as_dict() for p in problems]})


@bp.get("/mappings/<set_id>/versions/<version>/validation")
def validate(set_id: str, version: str) -> Response:
    problems = _workflow(edit=False).validate(_ref(set_id, version))
    return jsonify({"valid": not problems, "problems": [p.as_dict() for p in problems]})


@bp.get("/mappings/<set_id>/diff")
def diff(set_id: str) -> Response:
    base = http.query_text("from")
    head = http.query_text("to")
    return jsonify(_workflow(edit=False).diff(_ref(set_id, base), _ref(set_id, head)).as_dict())


@bp.get("/mappings/<set_id>/versions/<version>/impact")
def impact(set_id: str, version: str) -> Response:
    """One page of the impact analysis, over the fixtures and the caller's tenant's
    stored passports (all tenants' for admins, who may list them all anyway)."""
    workflow = _workflow(edit=True)
    caller = http.principal()
    assert caller is not None
    base = request.args.get("base")
    return jsonify(
        workflow.impact(
            _ref(set_id, version),
            _ref(set_id, base) if base else None,
            base_url=http.instance().base_url,
            tenant_id=auth.list_scope(caller),
            after=request.args.get("after") or None,
            limit=_impact_limit(),
        )
    )


def _impact_limit() -> int:
    raw = request.args.get("limit")
    if raw is None:
        return IMPACT_PAGE
    if not raw.isascii() or not raw.isdigit() or len(raw) > 4:
        raise InvalidInput(
            f"limit must be a whole number from 1 to {MAX_IMPACT_PAGE}", pointer="limit"
        )
    return int(raw)


@bp.post("/mappings/<set_id>/versions/<version>/publish")
def publish(set_id: str, version: str) -> Response:
    workflow = _workflow(edit=True)
    ref = _ref(set_id, version)
    table = workflow.publish(ref)
    return jsonify(_table(table, workflow.info(ref).status))


@bp.post("/mappings/<set_id>/versions/<version>/deprecate")
def deprecate(set_id: str, version: str) -> Response:
    workflow = _workflow(edit=True)
    ref = _ref(set_id, version)
    workflow.deprecate(ref)
    return jsonify(_table(workflow.table(ref), workflow.info(ref).status))


@bp.post("/mappings/import")
def import_table() -> Response:
    if request.mimetype != TSV:
        raise UnsupportedMediaType(f"send the SSSOM table as {TSV}", pointer="Content-Type")
    workflow = _workflow(edit=True)
    data = request.get_data()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBody(
            f"byte {exc.start}: the table is not UTF-8 ({exc.reason})", pointer=f"byte {exc.start}"
        ) from None
    table = workflow.import_draft(text, base_version=request.args.get("base") or None)
    response = jsonify(_table(table, "draft"))
    response.status_code = 201
    response.headers["Location"] = f"/mappings/{table.set_id}/versions/{table.version}"
    return response
