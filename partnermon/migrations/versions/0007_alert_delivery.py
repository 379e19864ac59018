"""alert delivery: preferences per alert type, quiet hours, digest items, List-Unsubscribe on the outbox

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 17:20:00
"""

from alembic import op
import sqlalchemy as sa
import partnermon.db


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_preference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('alert_type', sa.String(length=40), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('updated_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'alert_type', name='uq_alert_preference_user_type')
    )
    op.create_table('digest_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=False),
    sa.Column('created_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('sent_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('digest_item', schema=None) as batch_op:
        batch_op.create_index('ix_digest_item_user_sent', ['user_id', 'sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_digest_item_practice_id'), ['practice_id'], unique=False)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quiet_start_minute', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('quiet_end_minute', sa.Integer(), nullable=True))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('list_unsubscribe', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('list_unsubscribe')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('quiet_end_minute')
        batch_op.drop_column('quiet_start_minute')
    with op.batch_alter_table('digest_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_item_practice_id'))
        batch_op.drop_index('ix_digest_item_user_sent')
    op.drop_table('digest_item')
    op.drop_table('alert_preference')
