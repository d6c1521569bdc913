"""Mapping versions: drafts are edited here, published versions never change.

Publishing is a compare-and-set: it succeeds only for a version that is still a draft
and, when the draft names the version it was based on, only while that base is still
the newest published version of its set. Two editors publishing at once therefore get
one success and one :class:`~gateway.errors.Conflict`, never two diverging "latest"
versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from gateway.errors import Conflict, MappingNotFound
from gateway.store import tables
from gateway.store.audit import AuditLog
from gateway.store.tables import utcnow


@dataclass(frozen=True)
class MappingVersionInfo:
    """A stored mapping version; ``table`` is the SSSOM TSV (or JSON) text."""

    id: int
    mapping_set: str
    version: str
    status: str
    content_hash: str | None
    table: str
    base_version: str | None
    created_at: datetime
    published_at: datetime | None

    @property
    def ref(self) -> str:
        """``SET@VERSION``."""
        return f"{self.mapping_set}@{self.version}"


def _info(row: tables.MappingVersion) -> MappingVersionInfo:
    return MappingVersionInfo(
        id=row.id,
        mapping_set=row.mapping_set,
        version=row.version,
        status=row.status,
        content_hash=row.content_hash,
        table=row.table,
        base_version=row.base_version,
        created_at=row.created_at,
        published_at=row.published_at,
    )


class MappingVersions:
    """Mapping versions, within one unit of work.

    :param session: the unit of work's session.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def create_draft(
        self,
        mapping_set: str,
        version: str,
        table: str,
        *,
        base_version: str | None = None,
        content_hash: str | None = None,
        actor: str = "system",
    ) -> MappingVersionInfo:
        """Store a new draft.

        :param mapping_set: the mapping set.
        :param version: its semver, unique within the set.
        :param table: the mapping table text.
        :param base_version: the published version this draft was derived from.
        :param content_hash: hash of ``table`` (see ``gateway.mapping``), if known.
        :param actor: who asks, for the audit log.
        :returns: the draft.
        :raises Conflict: when the version exists.
        :raises MappingNotFound: when ``base_version`` does not exist.
        """
        if self._find(mapping_set, version) is not None:
            raise Conflict(f"mapping {mapping_set}@{version} already exists", pointer="/version")
        if base_version is not None:
            self.get(mapping_set, base_version)
        row = tables.MappingVersion(
            mapping_set=mapping_set,
            version=version,
            status="draft",
            table=table,
            base_version=base_version,
            content_hash=content_hash,
        )
        self.session.add(row)
        self.session.flush()
        AuditLog(self.session).append(
            actor,
            "mapping.drafted",
            f"mapping:{mapping_set}@{version}",
            {"base_version": base_version},
        )
        return _info(row)

    def get(self, mapping_set: str, version: str) -> MappingVersionInfo:
        """One version.

        :param mapping_set: the set.
        :param version: the version.
        :returns: it.
        :raises MappingNotFound: when there is none.
        """
        row = self._find(mapping_set, version)
        if row is None:
            raise MappingNotFound(f"no mapping {mapping_set}@{version}")
        return _info(row)

    def listing(
        self, mapping_set: str | None = None, status: str | None = None
    ) -> list[MappingVersionInfo]:
        """Versions, by set then creation.

        :param mapping_set: only this set.
        :param status: only versions in this status.
        :returns: the versions.
        """
        query = select(tables.MappingVersion)
        if mapping_set is not None:
            query = query.where(tables.MappingVersion.mapping_set == mapping_set)
        if status is not None:
            query = query.where(tables.MappingVersion.status == status)
        rows = self.session.scalars(
            query.order_by(tables.MappingVersion.mapping_set, tables.MappingVersion.id)
        )
        return [_info(r) for r in rows]

    def latest_published(self, mapping_set: str) -> MappingVersionInfo | None:
        """The most recently published version of a set.

        :param mapping_set: the set.
        :returns: it, or ``None`` when nothing is published.
        """
        row = self.session.scalar(
            select(tables.MappingVersion)
            .where(
                tables.MappingVersion.mapping_set == mapping_set,
                tables.MappingVersion.status == "published",
            )
            .order_by(tables.MappingVersion.published_at.desc(), tables.MappingVersion.id.desc())
            .limit(1)
        )
        return None if row is None else _info(row)

    def update_draft(
        self,
        mapping_set: str,
        version: str,
        table: str,
        content_hash: str | None = None,
        actor: str = "system",
    ) -> MappingVersionInfo:
        """Replace a draft's table.

        :param mapping_set: the set.
        :param version: the version.
        :param table: the new table text.
        :param content_hash: its hash, if known.
        :param actor: who asks, for the audit log.
        :returns: the draft.
        :raises MappingNotFound: when there is no such version.
        :raises Conflict: when the version is published or deprecated (immutable).
        """
        result = self.session.execute(
            update(tables.MappingVersion)
            .where(
                tables.MappingVersion.mapping_set == mapping_set,
                tables.MappingVersion.version == version,
                tables.MappingVersion.status == "draft",
            )
            .values(table=table, content_hash=content_hash)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            current = self.get(mapping_set, version)
            raise Conflict(
                f"mapping {mapping_set}@{version} is {current.status} and cannot change; "
                "create a new version",
                pointer="/version",
            )
        AuditLog(self.session).append(
            actor,
            "mapping.edited",
            f"mapping:{mapping_set}@{version}",
            {"content_hash": content_hash},
        )
        return self._fresh(mapping_set, version)

    def publish(
        self, mapping_set: str, version: str, content_hash: str, actor: str = "system"
    ) -> MappingVersionInfo:
        """Publish a draft; from then on it never changes.

        :param mapping_set: the set.
        :param version: the draft's version.
        :param content_hash: hash of the table as published.
        :param actor: who asks, for the audit log.
        :returns: the published version.
        :raises MappingNotFound: when there is no such version.
        :raises Conflict: when it is not a draft (someone published it already), or its
            base version is no longer the newest published version of the set.
        """
        # Lock every row of the set: publishers of the same set go one at a time
        # (PostgreSQL; on SQLite the write transaction already serialises them).
        rows = self.session.scalars(
            select(tables.MappingVersion)
            .where(tables.MappingVersion.mapping_set == mapping_set)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        row = next((r for r in rows if r.version == version), None)
        if row is None:
            raise MappingNotFound(f"no mapping {mapping_set}@{version}")
        if row.status != "draft":
            raise Conflict(
                f"mapping {mapping_set}@{version} is already {row.status}", pointer="/version"
            )
        latest = self.latest_published(mapping_set)
        if (
            row.base_version is not None
            and latest is not None
            and (latest.version != row.base_version)
        ):
            raise Conflict(
                f"mapping {mapping_set}@{version} is based on {row.base_version}, but "
                f"{latest.version} has been published since; rebase the draft",
                pointer="/base_version",
            )
        row.status = "published"
        row.content_hash = content_hash
        row.published_at = utcnow()
        self.session.flush()
        AuditLog(self.session).append(
            actor,
            "mapping.published",
            f"mapping:{mapping_set}@{version}",
            {"content_hash": content_hash},
        )
        return _info(row)

    def deprecate(
        self, mapping_set: str, version: str, actor: str = "system"
    ) -> MappingVersionInfo:
        """Mark a published version deprecated (still readable, still verifiable).

        :param mapping_set: the set.
        :param version: the version.
        :param actor: who asks, for the audit log.
        :returns: the version.
        :raises MappingNotFound: when there is no such version.
        :raises Conflict: when it is not published.
        """
        result = self.session.execute(
            update(tables.MappingVersion)
            .where(
                tables.MappingVersion.mapping_set == mapping_set,
                tables.MappingVersion.version == version,
                tables.MappingVersion.status == "published",
            )
            .values(status="deprecated")
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            current = self.get(mapping_set, version)
            raise Conflict(
                f"mapping {mapping_set}@{version} is {current.status}; only a published "
                "version can be deprecated",
                pointer="/status",
            )
        AuditLog(self.session).append(
            actor, "mapping.deprecated", f"mapping:{mapping_set}@{version}"
        )
        return self._fresh(mapping_set, version)

    def delete_draft(self, mapping_set: str, version: str, actor: str = "system") -> None:
        """Delete a draft.

        :param mapping_set: the set.
        :param version: the version.
        :param actor: who asks, for the audit log.
        :raises MappingNotFound: when there is no such version.
        :raises Conflict: when it is published or deprecated.
        """
        result = self.session.execute(
            delete(tables.MappingVersion)
            .where(
                tables.MappingVersion.mapping_set == mapping_set,
                tables.MappingVersion.version == version,
                tables.MappingVersion.status == "draft",
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            current = self.get(mapping_set, version)
            raise Conflict(
                f"mapping {mapping_set}@{version} is {current.status} and cannot be deleted",
                pointer="/version",
            )
        AuditLog(self.session).append(actor, "mapping.deleted", f"mapping:{mapping_set}@{version}")

    def _fresh(self, mapping_set: str, version: str) -> MappingVersionInfo:
        row = self.session.scalar(
            select(tables.MappingVersion)
            .where(
                tables.MappingVersion.mapping_set == mapping_set,
                tables.MappingVersion.version == version,
            )
            .execution_options(populate_existing=True)
        )
        if row is None:
            raise MappingNotFound(f"no mapping {mapping_set}@{version}")
        return _info(row)

    def _find(self, mapping_set: str, version: str) -> tables.MappingVersion | None:
        return self.session.scalar(
            select(tables.MappingVersion).where(
                tables.MappingVersion.mapping_set == mapping_set,
                tables.MappingVersion.version == version,
            )
        )
