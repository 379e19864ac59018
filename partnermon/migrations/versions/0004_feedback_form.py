"""feedback form: open-link client details, public rate limits

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:00:00
"""

from alembic import op
import sqlalchemy as sa
import partnermon.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('public_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('at', partnermon.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('public_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_public_attempt_kind_ip_at', ['kind', 'ip', 'at'], unique=False)

    with op.batch_alter_table('feedback_response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('client_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('client_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('submission_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_feedback_response_submission_key', ['submission_key'])


def downgrade() -> None:
    with op.batch_alter_table('feedback_response', schema=None) as batch_op:
        batch_op.drop_constraint('uq_feedback_response_submission_key', type_='unique')
        batch_op.drop_column('submission_key')
        batch_op.drop_column('client_email')
        batch_op.drop_column('client_name')
    with op.batch_alter_table('public_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_public_attempt_kind_ip_at')
    op.drop_table('public_attempt')
