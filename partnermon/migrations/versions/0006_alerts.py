"""alerts: partner subscriptions, incident notices and reminders, certificate and human-contact findings

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:40:00
"""

from alembic import op
import sqlalchemy as sa
import partnermon.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('partner_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('subscribed', sa.Boolean(), nullable=False),
    sa.Column('updated_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'partner_id', name='uq_partner_subscription_user_partner')
    )
    with op.batch_alter_table('partner_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_subscription_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_subscription_practice_id'), ['practice_id'], unique=False)

    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_due_at', partnermon.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('opened_notice_at', partnermon.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolved_notice_at', partnermon.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('reminder_number', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index('ix_incident_notice_due', ['notice_due_at'], unique=False)
    # Incidents that are over are history: nobody is emailed about them on upgrade. Outages still open are
    # news, and are announced by the first run of the alerts job.
    op.execute("UPDATE incident SET opened_notice_at = started_at, resolved_notice_at = resolved_at "
               "WHERE resolved_at IS NOT NULL")
    op.execute("UPDATE incident SET notice_due_at = started_at WHERE resolved_at IS NULL")

    with op.batch_alter_table('probe', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_expires_at', partnermon.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('certificate_told_for', partnermon.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('contact_missing_run', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('contact_missing_since', partnermon.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('contact_lost_told_for', partnermon.db.UTCDateTime(), nullable=True))

    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('incident_reminder_hours', sa.Integer(), server_default='4', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.drop_column('incident_reminder_hours')
    with op.batch_alter_table('probe', schema=None) as batch_op:
        batch_op.drop_column('contact_lost_told_for')
        batch_op.drop_column('contact_missing_since')
        batch_op.drop_column('contact_missing_run')
        batch_op.drop_column('certificate_told_for')
        batch_op.drop_column('certificate_expires_at')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_notice_due')
        batch_op.drop_column('reminder_number')
        batch_op.drop_column('resolved_notice_at')
        batch_op.drop_column('opened_notice_at')
        batch_op.drop_column('notice_due_at')
    with op.batch_alter_table('partner_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_subscription_practice_id'))
        batch_op.drop_index(batch_op.f('ix_partner_subscription_partner_id'))
    op.drop_table('partner_subscription')
