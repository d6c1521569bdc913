"""Alembic migrations of the gateway database (run by ``gateway db upgrade``)."""
