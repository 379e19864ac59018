"""follow-ups: the follow-up and its history, and each practice's follow-up rules

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00
"""

from alembic import op
import sqlalchemy as sa
import partnermon.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('moment_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('opened_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('contact_due_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('contacted_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('contacted_channel', sa.String(length=10), nullable=True),
    sa.Column('resolved_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('escalated_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('assignee_reminded_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['moment_id'], ['moment_of_truth.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['feedback_request.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['response_id'], ['feedback_response.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('response_id')
    )
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index('ix_follow_up_practice_status', ['practice_id', 'status', 'opened_at'], unique=False)
        batch_op.create_index('ix_follow_up_status_due', ['status', 'contact_due_at'], unique=False)

    op.create_table('follow_up_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=False),
    sa.Column('at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_up.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('follow_up_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_event_follow_up_id'), ['follow_up_id'], unique=False)

    # Every rule on by default; sa.true() renders as 1 on SQLite and true on PostgreSQL.
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('followup_on_dissatisfied', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('followup_on_brand_harm', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('followup_on_contact_request', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('followup_due_days', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('followup_urgent_hours', sa.Integer(), server_default='4', nullable=False))
        batch_op.add_column(sa.Column('followup_urgent_stakes', sa.String(length=20), server_default='high', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.drop_column('followup_urgent_stakes')
        batch_op.drop_column('followup_urgent_hours')
        batch_op.drop_column('followup_due_days')
        batch_op.drop_column('followup_on_contact_request')
        batch_op.drop_column('followup_on_brand_harm')
        batch_op.drop_column('followup_on_dissatisfied')
    with op.batch_alter_table('follow_up_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_event_follow_up_id'))
    op.drop_table('follow_up_event')
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_status_due')
        batch_op.drop_index('ix_follow_up_practice_status')
        batch_op.drop_index(batch_op.f('ix_follow_up_partner_id'))
        batch_op.drop_index(batch_op.f('ix_follow_up_assignee_id'))
    op.drop_table('follow_up')
