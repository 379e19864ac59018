"""monitoring

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:31:41.919532
"""

from alembic import op
import sqlalchemy as sa
import partnermon.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Probes, their results, incidents, maintenance windows and rollups (issue 3).
    op.create_table('job_mark',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('at', partnermon.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('started_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('resolved_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('first_error', sa.String(length=300), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('in_maintenance', sa.Boolean(), nullable=False),
    sa.Column('seconds_total', sa.Integer(), nullable=True),
    sa.Column('seconds_in_business_hours', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoint.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_practice_id'), ['practice_id'], unique=False)
        batch_op.create_index('ix_incident_touchpoint_started', ['touchpoint_id', 'started_at'], unique=False)

    op.create_table('maintenance_window',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('ends_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('created_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoint.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('maintenance_window', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_maintenance_window_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_maintenance_window_practice_id'), ['practice_id'], unique=False)

    op.create_table('probe',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.Column('soft_checks', sa.JSON(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('interval_seconds', sa.Integer(), nullable=False),
    sa.Column('timeout_seconds', sa.Float(), nullable=False),
    sa.Column('degraded_after_ms', sa.Integer(), nullable=True),
    sa.Column('failure_threshold', sa.Integer(), nullable=False),
    sa.Column('success_threshold', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('next_due_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('lease_until', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('down_run', sa.Integer(), nullable=False),
    sa.Column('down_run_since', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('working_run', sa.Integer(), nullable=False),
    sa.Column('working_run_since', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('degraded_run', sa.Integer(), nullable=False),
    sa.Column('degraded_run_since', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('healthy_run', sa.Integer(), nullable=False),
    sa.Column('healthy_run_since', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('open_down_incident_id', sa.Integer(), nullable=True),
    sa.Column('open_degraded_incident_id', sa.Integer(), nullable=True),
    sa.Column('last_checked_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('created_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoint.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('touchpoint_id')
    )
    with op.batch_alter_table('probe', schema=None) as batch_op:
        batch_op.create_index('ix_probe_due', ['enabled', 'next_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_probe_practice_id'), ['practice_id'], unique=False)

    op.create_table('probe_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=False),
    sa.Column('due_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('started_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('dns_ms', sa.Float(), nullable=True),
    sa.Column('connect_ms', sa.Float(), nullable=True),
    sa.Column('tls_ms', sa.Float(), nullable=True),
    sa.Column('first_byte_ms', sa.Float(), nullable=True),
    sa.Column('total_ms', sa.Float(), nullable=True),
    sa.Column('latency_bucket', sa.SmallInteger(), nullable=True),
    sa.Column('bytes_read', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('failed_checks', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('in_business_hours', sa.Boolean(), nullable=False),
    sa.Column('in_maintenance', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoint.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('probe_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_probe_result_practice_id'), ['practice_id'], unique=False)
        batch_op.create_index('ix_probe_result_started', ['started_at'], unique=False)
        batch_op.create_index('ix_probe_result_touchpoint_started', ['touchpoint_id', 'started_at'], unique=False)

    op.create_table('rollup_daily',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('up', sa.Integer(), nullable=False),
    sa.Column('degraded', sa.Integer(), nullable=False),
    sa.Column('down', sa.Integer(), nullable=False),
    sa.Column('maintenance', sa.Integer(), nullable=False),
    sa.Column('bh_up', sa.Integer(), nullable=False),
    sa.Column('bh_degraded', sa.Integer(), nullable=False),
    sa.Column('bh_down', sa.Integer(), nullable=False),
    sa.Column('histogram', sa.JSON(), nullable=False),
    sa.Column('bh_histogram', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoint.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('touchpoint_id', 'day', name='uq_rollup_daily')
    )
    with op.batch_alter_table('rollup_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollup_daily_practice_id'), ['practice_id'], unique=False)

    op.create_table('rollup_hourly',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=False),
    sa.Column('hour', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('up', sa.Integer(), nullable=False),
    sa.Column('degraded', sa.Integer(), nullable=False),
    sa.Column('down', sa.Integer(), nullable=False),
    sa.Column('maintenance', sa.Integer(), nullable=False),
    sa.Column('bh_up', sa.Integer(), nullable=False),
    sa.Column('bh_degraded', sa.Integer(), nullable=False),
    sa.Column('bh_down', sa.Integer(), nullable=False),
    sa.Column('histogram', sa.JSON(), nullable=False),
    sa.Column('bh_histogram', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoint.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('touchpoint_id', 'hour', name='uq_rollup_hourly')
    )
    with op.batch_alter_table('rollup_hourly', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_hourly_hour', ['hour'], unique=False)
        batch_op.create_index(batch_op.f('ix_rollup_hourly_practice_id'), ['practice_id'], unique=False)



def downgrade() -> None:
    # Probes, their results, incidents, maintenance windows and rollups (issue 3).
    with op.batch_alter_table('rollup_hourly', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollup_hourly_practice_id'))
        batch_op.drop_index('ix_rollup_hourly_hour')

    op.drop_table('rollup_hourly')
    with op.batch_alter_table('rollup_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollup_daily_practice_id'))

    op.drop_table('rollup_daily')
    with op.batch_alter_table('probe_result', schema=None) as batch_op:
        batch_op.drop_index('ix_probe_result_touchpoint_started')
        batch_op.drop_index('ix_probe_result_started')
        batch_op.drop_index(batch_op.f('ix_probe_result_practice_id'))

    op.drop_table('probe_result')
    with op.batch_alter_table('probe', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_probe_practice_id'))
        batch_op.drop_index('ix_probe_due')

    op.drop_table('probe')
    with op.batch_alter_table('maintenance_window', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_maintenance_window_practice_id'))
        batch_op.drop_index(batch_op.f('ix_maintenance_window_partner_id'))

    op.drop_table('maintenance_window')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_touchpoint_started')
        batch_op.drop_index(batch_op.f('ix_incident_practice_id'))

    op.drop_table('incident')
    op.drop_table('job_mark')
