"""reports: monthly reports as claimable rows, the practice's report day and hour, email attachments

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 11:50:00
"""

from alembic import op
import sqlalchemy as sa
import partnermon.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('due_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('lease_until', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('email_owners', sa.Boolean(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=300), nullable=True),
    sa.Column('bytes', sa.Integer(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('render_ms', sa.Integer(), nullable=True),
    sa.Column('generated_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('emailed_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('practice_id', 'month', name='uq_report_practice_month')
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.create_index('ix_report_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_practice_id'), ['practice_id'], unique=False)

    # Constant defaults: SQLite then adds the columns in place instead of rebuilding the table.
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_day', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('report_hour', sa.Integer(), server_default='7', nullable=False))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachment', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('attachment_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('attachment_type', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('attachment_type')
        batch_op.drop_column('attachment_name')
        batch_op.drop_column('attachment')
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.drop_column('report_hour')
        batch_op.drop_column('report_day')
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_practice_id'))
        batch_op.drop_index('ix_report_status_due')
    op.drop_table('report')
