"""API keys gain scopes (read, write) and a per-key rate-limit window (issue 21)

Keys made before scopes existed were made for making feedback requests, so they keep "write" only: reading
the practice's client data through the API is a new power an owner grants by making a key with "read".

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 16:00:00
"""

from alembic import op
import sqlalchemy as sa

import partnermon.db


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.String(length=20), server_default='write', nullable=False))
        batch_op.add_column(sa.Column('rate_window_start', partnermon.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('rate_window_count', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_column('rate_window_count')
        batch_op.drop_column('rate_window_start')
        batch_op.drop_column('scopes')
