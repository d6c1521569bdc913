"""What an instance kept on its own disk, in the database: white-list, web session secret.

Imported white-list listings, pinned DID documents of other issuers and the web session
signing key (wrapped by a key-encryption key) move from the instance folder into the
database, with a version counter per kind of state, so that any number of instances
serve one database. The files an instance folder holds are taken over when the instance
is next opened (``gateway.services.instance_state``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Written out here rather than imported from the models (see 0001).
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "whitelist_listings",
        sa.Column("licence_no", sa.String(length=64), nullable=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("announcement_no", sa.String(length=200), nullable=False),
        sa.Column("announced_on", sa.Date(), nullable=False),
        sa.Column("province", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("removed_on", sa.Date(), nullable=True),
        sa.Column("imported_by", sa.String(length=255), nullable=False),
        sa.Column("imported_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("licence_no", name="pk_whitelist_listings"),
    )
    op.create_table(
        "pinned_did_documents",
        sa.Column("did", sa.String(length=512), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("added_by", sa.String(length=255), nullable=False),
        sa.Column("added_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("did", name="pk_pinned_did_documents"),
    )
    op.create_table(
        "instance_secrets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("kek_id", sa.String(length=64), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_instance_secrets"),
    )
    op.create_table(
        "instance_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_instance_state"),
    )


def downgrade() -> None:
    op.drop_table("instance_state")
    op.drop_table("instance_secrets")
    op.drop_table("pinned_did_documents")
    op.drop_table("whitelist_listings")
