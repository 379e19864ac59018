"""recovery check-ins (issue 19): "Did {practice} put things right?" a set time after a follow-up is resolved

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 15:45:00
"""

from alembic import op
import sqlalchemy as sa

import partnermon.db


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recovery_check_in_days', sa.Integer(), server_default='7', nullable=False))
    op.create_table(
        'recovery_check_in',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('practice_id', sa.Integer(), nullable=False),
        sa.Column('follow_up_id', sa.Integer(), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('reached_rung', sa.String(length=10), nullable=False),
        sa.Column('assignee_id', sa.Integer(), nullable=True),
        sa.Column('client_name', sa.String(length=200), nullable=False),
        sa.Column('client_email', sa.String(length=254), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('skipped_reason', sa.String(length=200), nullable=False),
        sa.Column('created_at', partnermon.db.UTCDateTime(), nullable=False),
        sa.Column('due_at', partnermon.db.UTCDateTime(), nullable=False),
        sa.Column('sent_at', partnermon.db.UTCDateTime(), nullable=True),
        sa.Column('expires_at', partnermon.db.UTCDateTime(), nullable=True),
        sa.Column('opened_at', partnermon.db.UTCDateTime(), nullable=True),
        sa.Column('answered_at', partnermon.db.UTCDateTime(), nullable=True),
        sa.Column('answer', sa.String(length=10), nullable=True),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_recovery_check_in_practice_id_practice'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['follow_up_id'], ['follow_up.id'],
                                name=op.f('fk_recovery_check_in_follow_up_id_follow_up'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_recovery_check_in_partner_id_partner'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['assignee_id'], ['user_account.id'],
                                name=op.f('fk_recovery_check_in_assignee_id_user_account'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_check_in')),
        sa.UniqueConstraint('follow_up_id', 'round', name='uq_recovery_check_in_round'),
        sa.UniqueConstraint('token_hash', name=op.f('uq_recovery_check_in_token_hash')),
    )
    with op.batch_alter_table('recovery_check_in', schema=None) as batch_op:
        batch_op.create_index('ix_recovery_check_in_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_recovery_check_in_practice_id'), ['practice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recovery_check_in_follow_up_id'), ['follow_up_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recovery_check_in_partner_id'), ['partner_id'], unique=False)


def downgrade() -> None:
    op.drop_table('recovery_check_in')
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.drop_column('recovery_check_in_days')
