"""Encryption at rest: wrapped data keys and encrypted records.

The schema only: sealing the records (and the credentials beyond the public point)
already stored needs the key-encryption key,
which never enters the database, so ``gateway keys encrypt-store`` does it in batches
after this revision (and resumes where it stopped). Until then a row's record stays
readable in ``record``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Written out here rather than imported from the models (see 0001).
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "data_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("cipher", sa.String(length=16), nullable=False),
        sa.Column("kek_id", sa.String(length=64), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("destroyed_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_data_keys_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_data_keys"),
        sa.UniqueConstraint("tenant_id", "period", name="uq_data_keys_tenant_id_period"),
    )
    op.create_index("ix_data_keys_kek_id", "data_keys", ["kek_id"])
    # batch_alter_table: SQLite cannot drop NOT NULL in place, so the table is copied.
    with op.batch_alter_table("passports") as batch:
        batch.alter_column("record", existing_type=JSON, nullable=True)
        batch.add_column(sa.Column("record_sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("production_batch", sa.String(length=64), nullable=True))
    with op.batch_alter_table("credentials") as batch:
        batch.alter_column("body", existing_type=sa.Text(), nullable=True)
        batch.add_column(sa.Column("body_sealed", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # Refused by the database while a sealed record is stored (record NULL): open them
    # first, which needs the key-encryption key.
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("body_sealed")
        batch.alter_column("body", existing_type=sa.Text(), nullable=False)
    with op.batch_alter_table("passports") as batch:
        batch.drop_column("record_sealed")
        batch.drop_column("production_batch")
        batch.alter_column("record", existing_type=JSON, nullable=False)
    op.drop_index("ix_data_keys_kek_id", table_name="data_keys")
    op.drop_table("data_keys")
