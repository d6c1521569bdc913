"""The mapping tables' life cycle for standards teams: draft, edit, validate, diff,
impact, publish, deprecate, export and import.

Drafts live in the database; published versions are immutable and identified by semver
plus a content hash. The tables shipped in ``mappings/`` are published versions too:
``sync_shipped`` loads them into the store, and a published version can be exported back
as its SSSOM file for review in git.

Why one module of some 500 lines: it is one workflow over one object (a mapping set's
versions); impact analysis re-converts records under two versions and shares the
resolution of versions with every other step, so splitting it would only move the
shared helpers into a third module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gateway.auth import SYSTEM_ACTOR
from gateway.errors import (
    Conflict,
    GatewayError,
    InvalidInput,
    MappingInvalid,
    MappingNotFound,
)
from gateway.mapping import edit, loader, names
from gateway.mapping.diff import MappingDiff, diff, next_version
from gateway.mapping.model import MappingSet
from gateway.mapping.sssom import read_sssom, write_sssom
from gateway.mapping.validate import Problem
from gateway.paths import FIXTURES_DIR, MAPPINGS_DIR
from gateway.settings import Settings
from gateway.store.db import Database, init_db
from gateway.store.mappings import MappingVersionInfo, MappingVersions
from gateway.store.passports import Passports, StoredPassport

READABLE = ("published", "deprecated")
#: Stored passports per page of an impact analysis: by default, and at most.
IMPACT_PAGE = 50
MAX_IMPACT_PAGE = 200
# A page cursor is a battery code (GB/T 34014: 24 characters, echelon-use form 19).
_CURSOR = re.compile(r"[A-Z0-9]{1,24}")


class MappingWorkflow:
    """Mapping versions in one instance's store.

    :param db: the instance's database.
    :param actor: who acts, for the audit log (see :func:`gateway.auth.audit_actor`).
    """

    def __init__(self, db: Database, actor: str = SYSTEM_ACTOR) -> None:
        self.db = db
        self.actor = actor

    # -- reading ---------------------------------------------------------------------

    def sync_shipped(self, root: Path = MAPPINGS_DIR) -> list[str]:
        """Store every shipped table as a published version, once.

        :returns: the versions added.
        :raises Conflict: a stored version has another content hash than its file.
        """
        added = []
        for ref in loader.available(root):
            table = loader.load(ref, root)
            set_id, version = loader.parse_ref(ref)
            try:
                with self.db.reading() as session:
                    stored = MappingVersions(session).get(set_id, version)
            except MappingNotFound:
                try:
                    with self.db.transaction() as session:
                        versions = MappingVersions(session)
                        versions.create_draft(
                            table.set_id,
                            table.version,
                            write_sssom(table),
                            content_hash=table.content_hash,
                            actor=self.actor,
                        )
                        versions.publish(
                            table.set_id, table.version, table.content_hash, actor=self.actor
                        )
                    added.append(ref)
                    continue
                except Conflict:
                    # Another process stored it first; compare hashes below.
                    with self.db.reading() as session:
                        stored = MappingVersions(session).get(set_id, version)
            if stored.content_hash != table.content_hash:
                raise Conflict(
                    f"{ref}: the stored version's hash {stored.content_hash} "
                    f"differs from mappings/ ({table.content_hash})"
                )
        return added

    def versions(self, set_id: str | None = None) -> list[dict[str, Any]]:
        with self.db.reading() as session:
            rows = MappingVersions(session).listing(set_id)
        return [_summary(info) for info in rows]

    def info(self, ref: str) -> MappingVersionInfo:
        """A stored version; a shipped one is loaded into the store on first use."""
        set_id, version = loader.parse_ref(ref)
        try:
            with self.db.reading() as session:
                return MappingVersions(session).get(set_id, version)
        except MappingNotFound:
            if ref not in loader.available():
                raise
        self.sync_shipped()
        with self.db.reading() as session:
            return MappingVersions(session).get(set_id, version)

    def table(self, ref: str) -> MappingSet:
        """A stored version in any status, as a table."""
        return read_sssom(self.info(ref).table)

    def published(self, ref: str) -> MappingSet:
        """A version conversions may use: published (or deprecated, still readable).

        :raises MappingNotFound: no such version, or only a draft.
        """
        info = self.info(ref)
        if info.status not in READABLE:
            raise MappingNotFound(f"{ref} is a {info.status}, not published", pointer="mapping")
        return read_sssom(info.table)

    # -- editing ---------------------------------------------------------------------

    def create_draft(self, set_id: str, version: str, base_version: str) -> MappingSet:
        """A new draft ``set_id@version`` with the rows of a published base version.

        The API, the mapping editor's pages and the CLI all create drafts here, so the
        names are checked here, once, for all of them.

        :raises InvalidInput: a set name, version or base version that breaks its rule
            (:mod:`gateway.mapping.names`), named by its field.
        """
        names.check_set_name(set_id, "set")
        names.check_version(version, "version")
        names.check_version(base_version, "base_version")
        base = self.published(f"{set_id}@{base_version}")
        draft = replace(base, version=version)
        with self.db.transaction() as session:
            MappingVersions(session).create_draft(
                set_id,
                version,
                write_sssom(draft),
                base_version=base_version,
                content_hash=draft.content_hash,
                actor=self.actor,
            )
        return draft

    def import_draft(self, text: str, base_version: str | None = None) -> MappingSet:
        """Load an SSSOM TSV file as a draft (its metadata names set and version)."""
        draft = read_sssom(text)
        with self.db.transaction() as session:
            MappingVersions(session).create_draft(
                draft.set_id,
                draft.version,
                write_sssom(draft),
                base_version=base_version,
                content_hash=draft.content_hash,
                actor=self.actor,
            )
        return draft

    def edit(
        self,
        ref: str,
        *,
        add: Iterable[Mapping[str, Any]] = (),
        change: Mapping[int, Mapping[str, Any]] | None = None,
        remove: Iterable[int] = (),
    ) -> tuple[MappingSet, list[Problem]]:
        """Change a draft's rows: changes first, then removals, then additions.

        Row numbers are those of the draft before the edit. The draft is stored even
        when it has problems, so an editor can fix them step by step.

        :returns: the new table and its validation problems.
        :raises Conflict: the version is published or deprecated.
        """
        table = self.table(ref)
        for number, values in (change or {}).items():
            table = edit.change_row(table, int(number), _row_values(values))
        for number in sorted(remove, reverse=True):
            table = edit.remove_row(table, int(number))
        for values in add:
            values = dict(values)
            after = values.pop("after", None)
            table = edit.add_row(table, _row_values(values), after=after)
        with self.db.transaction() as session:
            MappingVersions(session).update_draft(
                table.set_id,
                table.version,
                write_sssom(table),
                content_hash=table.content_hash,
                actor=self.actor,
            )
        return table, loader.check(table)

    def validate(self, ref: str) -> list[Problem]:
        return loader.check(self.table(ref))

    def diff(self, base_ref: str, head_ref: str) -> MappingDiff:
        return diff(self.table(base_ref), self.table(head_ref))

    def base_of(self, ref: str) -> str:
        info = self.info(ref)
        if not info.base_version:
            raise MappingInvalid(f"{ref} has no base version to compare with")
        return f"{info.mapping_set}@{info.base_version}"

    # -- publishing ------------------------------------------------------------------

    def required_version(self, ref: str) -> str:
        """The version the draft must carry, given what changed since its base."""
        base = self.base_of(ref)
        change = self.diff(base, ref)
        return next_version(base.partition("@")[2], change.bump)

    def publish(self, ref: str) -> MappingSet:
        """Publish a valid draft; it never changes afterwards.

        :raises MappingInvalid: the draft has problems (all listed with row numbers), or
            its version does not match the change since its base version.
        :raises Conflict: already published, or another version was published since.
        """
        table = self.table(ref)
        loader.raise_problems(table, loader.check(table))
        info = self.info(ref)
        if info.base_version:
            change = diff(self.published(self.base_of(ref)), table)
            wanted = next_version(info.base_version, change.bump)
            if change.bump == "none":
                raise MappingInvalid(f"{ref} does not differ from {info.base_version}")
            if wanted != table.version:
                raise MappingInvalid(
                    f"{ref}: the change since {info.base_version} is {change.bump}, so the "
                    f"version must be {wanted}",
                    pointer="/version",
                    required_version=wanted,
                )
        with self.db.transaction() as session:
            MappingVersions(session).publish(
                table.set_id, table.version, table.content_hash, actor=self.actor
            )
        return table

    def deprecate(self, ref: str) -> None:
        set_id, version = loader.parse_ref(ref)
        with self.db.transaction() as session:
            MappingVersions(session).deprecate(set_id, version, actor=self.actor)

    def export(self, ref: str, root: Path | None = None) -> str:
        """The SSSOM TSV of a version; with ``root``, also written as
        ``root/<set>/<version>.sssom.tsv`` (published versions only)."""
        table = self.table(ref)
        text = write_sssom(table)
        if root is not None:
            self.published(ref)
            path = root / table.set_id / f"{table.version}{loader.SUFFIX}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return text

    # -- impact ----------------------------------------------------------------------

    def impact(
        self,
        ref: str,
        base_ref: str | None = None,
        *,
        base_url: str,
        tenant_id: int | None,
        passports: bool = True,
        after: str | None = None,
        limit: int = IMPACT_PAGE,
        fixtures: Path = FIXTURES_DIR / "records",
    ) -> dict[str, Any]:
        """What a draft would change: run it and its base over the fixture records and
        over the records behind one page of stored passports.

        Stored passports are a tenant's business: an editor sees the impact on the
        passports of the editor's own tenant only (``tenant_id``); ``None`` (for admins
        and authorities, who may list every passport, see
        :func:`gateway.auth.list_scope`) reads all tenants. The fixtures are analysed on
        the first page only.

        :param tenant_id: whose passports to read; ``None`` for all tenants.
        :param passports: ``False`` to analyse the fixtures alone.
        :param after: the battery code the previous page ended with (its ``next``).
        :param limit: stored passports per page, 1 to :data:`MAX_IMPACT_PAGE`.
        :returns: per record readiness before/after and the attributes whose gap status
            changes; per EU attribute the status changes; the stored passports of the
            page whose documents would differ if re-issued; the page (``limit``,
            ``after``, ``next``, ``count`` of stored passports on it, ``total`` of stored
            passports in scope).
        :raises InvalidInput: a limit out of range, or a malformed ``after``.
        """
        from gateway.records.reader import read_record_file

        if not 1 <= limit <= MAX_IMPACT_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_IMPACT_PAGE}", pointer="limit")
        if after is not None and not _CURSOR.fullmatch(after):
            raise InvalidInput("after must be the next value of the previous page", pointer="after")
        head = self.table(ref)
        base = self.table(base_ref or self.base_of(ref))
        inputs: list[tuple[str, dict[str, Any], str | None]] = []
        if after is None:
            for path in sorted(fixtures.glob("*")):
                if path.suffix in {".json", ".xml"}:
                    inputs.append((f"fixtures/records/{path.name}", read_record_file(path), None))
        stored: list[StoredPassport] = []
        total = 0
        if passports:
            root = base_url.rstrip("/")
            with self.db.reading() as session:
                found = Passports(session)
                stored = found.listing(
                    tenant_id, limit=limit, after=f"{root}/passports/{after}" if after else None
                )
                total = found.count(tenant_id)
        inputs.extend((p.id, p.record, p.id) for p in stored)
        changed = _changed_attributes(base, head)
        records: list[dict[str, Any]] = []
        by_attribute: dict[str, dict[str, int]] = {}
        affected: list[dict[str, Any]] = []
        for name, record, passport_id in inputs:
            try:
                base_run, head_run = _outcomes(record, base, head, changed, base_url)
            except GatewayError as exc:
                records.append({"record": name, "error": str(exc)})
                continue
            changes = []
            for old, new in zip(base_run.results, head_run.results, strict=True):
                if old.status != new.status:
                    changes.append(
                        {
                            "key": new.attribute.key,
                            "label": new.attribute.label,
                            "before": old.status,
                            "after": new.status,
                        }
                    )
                    counts = by_attribute.setdefault(new.attribute.key, {})
                    move = f"{old.status} -> {new.status}"
                    counts[move] = counts.get(move, 0) + 1
            records.append(
                {
                    "record": name,
                    "battery_code": head_run.battery_code,
                    "readiness_before": base_run.readiness,
                    "readiness_after": head_run.readiness,
                    "status_changes": changes,
                }
            )
            if passport_id:
                groups = sorted(
                    g
                    for g in set(base_run.documents) | set(head_run.documents)
                    if base_run.documents.get(g) != head_run.documents.get(g)
                )
                if groups:
                    affected.append({"passport_id": passport_id, "groups": groups})
        return {
            "base": base.ref,
            "head": head.ref,
            "records": records,
            "attributes": by_attribute,
            "passports_affected": affected,
            "page": {
                "limit": limit,
                "after": after,
                "next": stored[-1].battery_code if len(stored) == limit else None,
                "count": len(stored),
                "total": total,
            },
        }


@dataclass(frozen=True)
class _Outcome:
    """What one mapping version makes of one record, as far as impact needs it."""

    results: tuple[Any, ...]
    documents: dict[str, dict[str, Any]]
    readiness: float
    battery_code: str


def _changed_attributes(base: MappingSet, head: MappingSet) -> Any:
    """The catalog's attributes whose mapping rows differ between two tables (row
    numbers aside): only these can convert differently, since an attribute is resolved
    from its own rows alone."""
    from gateway.vocab.catalog import Catalog, load_catalog

    def rows(table: MappingSet, term: str) -> list[dict[str, Any]]:
        return [{**r.cells(), "params": dict(r.params)} for r in table.rows_for(term)]

    catalog = load_catalog()
    return Catalog.of(
        tuple(a for a in catalog.attributes if rows(base, a.term) != rows(head, a.term))
    )


def _outcomes(
    record: Mapping[str, Any], base: MappingSet, head: MappingSet, changed: Any, base_url: str
) -> tuple[_Outcome, _Outcome]:
    """Convert one record with the base and the head table: the conversion steps of
    issuance, without the national findings (they do not depend on the mapping), with
    the policy applied once, and with the head converting only the ``changed``
    attributes (the others are the base's results)."""
    from gateway.codes import gbt34014
    from gateway.errors import InvalidBatteryCode
    from gateway.policy.table import apply_policy, load_policy
    from gateway.services.conversion import decode_code
    from gateway.transform.engine import convert
    from gateway.transform.gaps import gap_report
    from gateway.transform.jsonld import passport_documents
    from gateway.vocab.catalog import load_catalog

    try:
        gbt34014.decode(record["battery"]["code"], strict=True)
    except InvalidBatteryCode as exc:
        exc.pointer = "/battery/code"
        raise
    exportable, decision = apply_policy(record, load_policy())
    before = convert(
        exportable,
        base,
        load_catalog(),
        base_url=base_url,
        decode_code=decode_code,
        withheld=decision.withheld_paths,
    )
    redone = {
        r.attribute.term: r
        for r in convert(
            exportable,
            head,
            changed,
            base_url=base_url,
            decode_code=decode_code,
            withheld=decision.withheld_paths,
        ).results
    }
    after = replace(
        before, mapping=head, results=tuple(redone.get(r.attribute.term, r) for r in before.results)
    )

    def outcome(conversion: Any) -> _Outcome:
        return _Outcome(
            conversion.results,
            passport_documents(conversion),
            gap_report(conversion)["summary"]["readiness"],
            conversion.battery_code,
        )

    return outcome(before), outcome(after)


def _row_values(values: Mapping[str, Any]) -> dict[str, Any]:
    # The API and CLI speak SSSOM column names; transform_params travels as an object.
    out = dict(values)
    if "transform_params" in out:
        out["params"] = out.pop("transform_params") or {}
    return out


def _summary(info: MappingVersionInfo) -> dict[str, Any]:
    return {
        "mapping": info.ref,
        "set": info.mapping_set,
        "version": info.version,
        "status": info.status,
        "hash": info.content_hash,
        "base_version": info.base_version,
        "created_at": info.created_at.isoformat(),
        "published_at": info.published_at.isoformat() if info.published_at else None,
    }


def published_mapping(settings: Settings, ref: str) -> MappingSet:
    """The published table ``SET@VERSION`` for a conversion outside a running gateway
    (``gateway convert``): a shipped file, else one published in the instance's store.

    :raises MappingNotFound: neither has it.
    """
    opened: list[Database] = []

    def open_db() -> Database | None:
        if settings.has_store:
            opened.append(init_db(settings))
            return opened[-1]
        return None

    try:
        return resolve_mapping(ref, open_db)
    finally:
        for db in opened:
            db.dispose()


def resolve_mapping(ref: str, open_db: Callable[[], Database | None]) -> MappingSet:
    """The published table ``SET@VERSION``: a shipped file, else a version published
    through the store (opened only when the files do not have it).

    :raises MappingNotFound: neither has it (the message lists the shipped versions).
    """
    try:
        return loader.load(ref)
    except MappingNotFound:
        db = open_db()
        if db is None:
            raise
    try:
        table = MappingWorkflow(db).published(ref)
    except MappingNotFound:
        known = ", ".join(loader.available()) or "none"
        raise MappingNotFound(
            f"no published mapping {ref}; shipped: {known}", pointer="mapping"
        ) from None
    return table
