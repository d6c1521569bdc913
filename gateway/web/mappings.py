"""The mapping editor for standards teams: sets and versions, the table with filters,
row edits on drafts with each row's validation messages, diff, impact and publish.

Every action goes through :class:`gateway.services.mappings.MappingWorkflow`, the same
workflow the mapping API and ``gateway mappings`` use.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, redirect, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from gateway import auth
from gateway.annex_xiii import POINTS
from gateway.auth import Principal
from gateway.errors import GatewayError, InvalidInput, NotFound
from gateway.mapping.model import NO_TERM_FOUND, RELATIONS, MappingRow
from gateway.services.mappings import MappingWorkflow
from gateway.vocab.catalog import load_catalog
from gateway.web.common import bp, instance, page, require

#: The columns an editor changes on the page; provenance columns stay in SSSOM files.
EDIT_FIELDS = (
    "subject_id",
    "predicate_id",
    "transform",
    "transform_params",
    "subject_label",
    "subject_label_zh",
    "comment",
)
ROW_STATES = ("mapped", "unmapped", "problem")
#: The rows' filter by the Annex XIII point of their target attribute.
POINT_CHOICES = tuple(str(p) for p in POINTS)


def _editor() -> Principal:
    return require(auth.may_edit_mappings, "edit mapping tables")


def _workflow(caller: Principal) -> MappingWorkflow:
    return MappingWorkflow(instance().db, actor=auth.audit_actor(caller))


@bp.get("/mapping-editor")
def mappings_index() -> Response:
    workflow = _workflow(_editor())
    workflow.sync_shipped()
    versions = workflow.versions()
    sets = sorted({v["set"] for v in versions})
    return page("mappings.html", versions=versions, sets=sets)


@bp.post("/mapping-editor/drafts")
def create_draft() -> BaseResponse:
    workflow = _workflow(_editor())
    set_id = request.form.get("set", "").strip()
    base = request.form.get("base_version", "").strip()
    version = request.form.get("version", "").strip()
    if not (set_id and base and version):
        raise InvalidInput(
            "a draft needs a set, a base version and a new version", pointer="version"
        )
    workflow.create_draft(set_id, version, base)
    return redirect(url_for("web.mapping_version", set_id=set_id, version=version), 303)


def _state(row: MappingRow, problems: dict[int, list[str]]) -> str:
    if row.number in problems:
        return "problem"
    return "unmapped" if row.subject_id == NO_TERM_FOUND else "mapped"


def _matches(row: MappingRow, state: str, filters: dict[str, str]) -> bool:
    attribute = load_catalog().by_term.get(row.attribute_term)
    point = str(attribute.point) if attribute else ""
    if filters["status"] and state != filters["status"]:
        return False
    if filters["relation"] and row.predicate_id != filters["relation"]:
        return False
    if filters["point"] and point != filters["point"]:
        return False
    text = filters["q"].casefold()
    if text and not any(text in str(v).casefold() for v in row.cells().values()):
        return False
    return True


def _filters() -> dict[str, str]:
    filters = {
        name: request.args.get(name, "").strip() for name in ("status", "relation", "point", "q")
    }
    for name, allowed in (
        ("status", ROW_STATES),
        ("relation", RELATIONS),
        ("point", POINT_CHOICES),
    ):
        if filters[name] and filters[name] not in allowed:
            raise InvalidInput(f"{name} must be one of {', '.join(allowed)}", pointer=name)
    return filters


def _problems_by_row(problems: list[Any]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for problem in problems:
        column = f"{problem.column}: " if problem.column else ""
        found.setdefault(problem.row, []).append(column + problem.message)
    return found


NO_FILTERS = {"status": "", "relation": "", "point": "", "q": ""}
#: Rows per page of a mapping table: the whole table with an edit form per row runs to
#: some 20,000 px and 300 KB.
PAGE_SIZE = 25
#: The longest ``page`` parameter read (a million pages is more than any table has).
MAX_PAGE_DIGITS = 6


def _page_asked() -> int:
    """The ``page`` query parameter (1 when absent).

    :raises InvalidInput: not a whole number from 1.
    """
    raw = request.args.get("page", "").strip()
    if not raw:
        return 1
    if len(raw) > MAX_PAGE_DIGITS or not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise InvalidInput("page must be a whole number from 1", pointer="page")
    return int(raw)


def _table_context(
    workflow: MappingWorkflow,
    ref: str,
    filters: dict[str, str] | None = None,
    focus: int | None = None,
) -> dict[str, Any]:
    """The table page: the rows that pass the filters, :data:`PAGE_SIZE` at a time.

    :param focus: a row number whose page is shown (after an edit), instead of the
        ``page`` the query asks for; a page past the last shows the last.
    """
    info = workflow.info(ref)
    table = workflow.table(ref)
    problems = _problems_by_row(workflow.validate(ref))
    filters = _filters() if filters is None else filters
    catalog = load_catalog()
    matched: list[dict[str, Any]] = []
    for row in table.rows:
        state = _state(row, problems)
        if _matches(row, state, filters):
            attribute = catalog.by_term.get(row.attribute_term)
            matched.append(
                {
                    "row": row,
                    "cells": row.cells(),
                    "state": state,
                    "problems": problems.get(row.number, []),
                    "point": attribute.point if attribute else None,
                }
            )
    pages = max(1, -(-len(matched) // PAGE_SIZE))
    numbers = [item["row"].number for item in matched]
    if focus is not None and focus in numbers:
        current = numbers.index(focus) // PAGE_SIZE + 1
    else:
        current = min(_page_asked(), pages)
    start = (current - 1) * PAGE_SIZE
    rows = matched[start : start + PAGE_SIZE]
    return {
        "info": info,
        "table": table,
        "rows": rows,
        "filters": filters,
        "table_problems": problems.get(0, []),
        "total": len(table.rows),
        "shown": len(matched),
        "page": current,
        "pages": pages,
        "first": start + 1 if rows else 0,
        "last": start + len(rows),
        "page_query": {k: v for k, v in filters.items() if v},
        "relations": RELATIONS,
        "points": POINT_CHOICES,
        "states": ROW_STATES,
        "edit_fields": EDIT_FIELDS,
        "is_draft": info.status == "draft",
    }


@bp.get("/mapping-editor/<set_id>/<version>")
def mapping_version(set_id: str, version: str) -> Response:
    workflow = _workflow(_editor())
    return page("mapping_version.html", **_table_context(workflow, f"{set_id}@{version}"))


def _row_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in EDIT_FIELDS:
        if name not in form:
            continue
        value = form.get(name, "").strip()
        if name == "transform_params":
            try:
                parsed = json.loads(value) if value else {}
            except ValueError as exc:
                raise InvalidInput(
                    f"transform_params is not JSON: {exc}", pointer="transform_params"
                ) from None
            if not isinstance(parsed, dict):
                raise InvalidInput("transform_params is a JSON object", pointer="transform_params")
            value = parsed
        values[name] = value
    return values


@bp.post("/mapping-editor/<set_id>/<version>/rows/<int:number>")
def edit_row(set_id: str, version: str, number: int) -> BaseResponse:
    """Change one row of a draft. A script asks for the re-rendered row only
    (``X-Fragment: row``); a plain form post returns to the table at that row."""
    caller = _editor()
    workflow = _workflow(caller)
    ref = f"{set_id}@{version}"
    error = None
    try:
        workflow.edit(ref, change={number: _row_values(request.form)})
    except GatewayError as exc:
        error = str(exc)
    if request.headers.get("X-Fragment") == "row":
        # The row is shown even when the page's filters would now hide it.
        context = _table_context(workflow, ref, NO_FILTERS, focus=number)
        found = [r for r in context["rows"] if r["row"].number == number]
        if not found:
            raise NotFound(f"{ref} has no row {number}", pointer="number")
        return page(
            "mapping_row.html",
            422 if error else 200,
            item=found[0],
            error=error,
            **{k: v for k, v in context.items() if k != "rows"},
        )
    if error:
        context = _table_context(workflow, ref, focus=number)
        return page("mapping_version.html", 422, error=error, error_row=number, **context)
    back = request.form.get("back", "")
    target = url_for("web.mapping_version", set_id=set_id, version=version)
    if back.startswith("?"):
        target += back
    return redirect(f"{target}#row-{number}", 303)


@bp.get("/mapping-editor/<set_id>/<version>/diff")
def mapping_diff(set_id: str, version: str) -> Response:
    workflow = _workflow(_editor())
    ref = f"{set_id}@{version}"
    base = workflow.base_of(ref)
    change = workflow.diff(base, ref).as_dict()
    required = workflow.required_version(ref) if change["bump"] != "none" else None
    return page(
        "mapping_diff.html",
        ref=ref,
        base=base,
        diff=change,
        required=required,
        set_id=set_id,
        version=version,
    )


@bp.get("/mapping-editor/<set_id>/<version>/impact")
def mapping_impact(set_id: str, version: str) -> Response:
    """A page of the impact analysis: the fixtures, then the signed-in editor's tenant's
    stored passports a page at a time (``?after=<battery code>``)."""
    caller = _editor()
    workflow = _workflow(caller)
    ref = f"{set_id}@{version}"
    impact = workflow.impact(
        ref,
        base_url=instance().base_url,
        tenant_id=auth.list_scope(caller),
        after=request.args.get("after") or None,
    )
    return page("mapping_impact.html", ref=ref, impact=impact, set_id=set_id, version=version)


def _publish_context(workflow: MappingWorkflow, ref: str) -> dict[str, Any]:
    info = workflow.info(ref)
    problems = [p.as_dict() for p in workflow.validate(ref)]
    bump = required = None
    if info.base_version:
        bump = workflow.diff(workflow.base_of(ref), ref).bump
        required = workflow.required_version(ref) if bump != "none" else None
    return {"info": info, "problems": problems, "bump": bump, "required": required, "ref": ref}


@bp.get("/mapping-editor/<set_id>/<version>/publish")
def publish_form(set_id: str, version: str) -> Response:
    workflow = _workflow(_editor())
    return page("mapping_publish.html", **_publish_context(workflow, f"{set_id}@{version}"))


@bp.post("/mapping-editor/<set_id>/<version>/publish")
def publish(set_id: str, version: str) -> BaseResponse:
    workflow = _workflow(_editor())
    ref = f"{set_id}@{version}"
    if request.form.get("confirm") != "yes":
        return page(
            "mapping_publish.html",
            422,
            error="tick the box to confirm publishing",
            **_publish_context(workflow, ref),
        )
    try:
        workflow.publish(ref)
    except GatewayError as exc:
        return page(
            "mapping_publish.html", exc.status, error=str(exc), **_publish_context(workflow, ref)
        )
    return redirect(url_for("web.mapping_version", set_id=set_id, version=version), 303)
