"""Persistent store: SQLAlchemy models, Alembic migrations and the repositories the
services call. The only package that imports SQLAlchemy.

A unit of work is one transaction::

    db = init_db(settings)
    with db.transaction() as session:
        Passports(session).save(new_passport, credentials, actor="tenant:acme")
"""

from gateway.store.audit import AuditLog
from gateway.store.db import Database, init_db
from gateway.store.mappings import MappingVersions
from gateway.store.passports import Passports
from gateway.store.status_lists import StatusLists
from gateway.store.tenants import Tenants

__all__ = [
    "AuditLog",
    "Database",
    "MappingVersions",
    "Passports",
    "StatusLists",
    "Tenants",
    "init_db",
]
