"""Trust lists (trusted issuer DIDs and did:web domains, instance-wide or per tenant)
and the extra JSON-LD contexts pinned for the verifier.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Written out here rather than imported from the models (see 0001).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "trusted_issuers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=512), nullable=False),
        sa.Column("added_by", sa.String(length=255), nullable=False),
        sa.Column("added_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("kind IN ('did', 'domain')", name="ck_trusted_issuers_kind"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name="fk_trusted_issuers_tenant_id_tenants"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_trusted_issuers"),
        sa.UniqueConstraint(
            "tenant_id", "kind", "value", name="uq_trusted_issuers_tenant_id_kind_value"
        ),
    )
    op.create_index("ix_trusted_issuers_tenant_id", "trusted_issuers", ["tenant_id"])
    op.create_table(
        "pinned_contexts",
        sa.Column("url", sa.String(length=512), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=255), nullable=False),
        sa.Column("added_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("url", name="pk_pinned_contexts"),
    )


def downgrade() -> None:
    op.drop_table("pinned_contexts")
    op.drop_index("ix_trusted_issuers_tenant_id", table_name="trusted_issuers")
    op.drop_table("trusted_issuers")
