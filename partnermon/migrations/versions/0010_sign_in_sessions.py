"""sign-in sessions: one row per signed-in browser, so signing out ends the sign-in on the server

The session cookie used to carry the user's id and a per-user ``session_epoch``; it now carries a random
token whose SHA-256 is a ``sign_in_session`` row. The epoch column goes, so every browser signed in before
this upgrade is signed out once.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 10:00:00
"""

from alembic import op
import sqlalchemy as sa
import partnermon.db


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('ended_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('sign_in_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_session_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')


def downgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.String(length=32), server_default='', nullable=False))
    with op.batch_alter_table('sign_in_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_session_user_id'))
    op.drop_table('sign_in_session')
