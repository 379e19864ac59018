"""scoring: thresholds per moment, early warnings, minimum responses, demo practices, score indexes

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 11:10:00
"""

from alembic import op
import sqlalchemy as sa
import partnermon.db


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('score_threshold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('moment_id', sa.Integer(), nullable=True),
    sa.Column('measure', sa.String(length=40), nullable=False),
    sa.Column('limit', sa.Float(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['moment_id'], ['moment_of_truth.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('practice_id', 'moment_id', 'measure', name='uq_score_threshold')
    )
    with op.batch_alter_table('score_threshold', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_threshold_practice_id'), ['practice_id'], unique=False)

    op.create_table('early_warning',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('moment_id', sa.Integer(), nullable=True),
    sa.Column('measure', sa.String(length=40), nullable=False),
    sa.Column('direction', sa.String(length=6), nullable=False),
    sa.Column('previous_value', sa.Float(), nullable=False),
    sa.Column('current_value', sa.Float(), nullable=False),
    sa.Column('test', sa.String(length=60), nullable=False),
    sa.Column('statistic', sa.Float(), nullable=False),
    sa.Column('p_value', sa.Float(), nullable=False),
    sa.Column('first_seen_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('cleared_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('alerted_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['moment_id'], ['moment_of_truth.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('early_warning', schema=None) as batch_op:
        batch_op.create_index('ix_early_warning_practice_cleared', ['practice_id', 'cleared_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_early_warning_partner_id'), ['partner_id'], unique=False)

    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score_min_responses', sa.Integer(), server_default='5', nullable=False))
        # A constant default (not sa.false()): SQLite then adds the column in place. An expression default makes
        # Alembic rebuild the table, and dropping the old practice table cascades into every practice's rows.
        batch_op.add_column(sa.Column('is_demo', sa.Boolean(), server_default='0', nullable=False))

    with op.batch_alter_table('rollup_daily', schema=None) as batch_op:
        batch_op.create_index('ix_rollup_daily_practice_day', ['practice_id', 'day'], unique=False)
        for bucket in range(HISTOGRAM_SIZE):
            batch_op.add_column(sa.Column(f'latency_{bucket}', sa.Integer(), server_default='0', nullable=False))
    _fill_latency_columns()

    with op.batch_alter_table('feedback_response', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_response_practice_created', ['practice_id', 'created_at'], unique=False)


HISTOGRAM_SIZE = 21


def _fill_latency_columns() -> None:
    """Existing daily rollups get their bucket columns from their JSON histogram, a batch at a time."""
    bind = op.get_bind()
    daily = sa.table('rollup_daily', sa.column('id', sa.Integer()), sa.column('histogram', sa.JSON()),
                     *[sa.column(f'latency_{b}', sa.Integer()) for b in range(HISTOGRAM_SIZE)])
    last = 0
    while True:
        rows = bind.execute(sa.select(daily.c.id, daily.c.histogram).where(daily.c.id > last)
                            .order_by(daily.c.id).limit(1000)).all()
        if not rows:
            return
        for row_id, histogram in rows:
            values = list(histogram or [])[:HISTOGRAM_SIZE]
            values += [0] * (HISTOGRAM_SIZE - len(values))
            if any(values):
                bind.execute(daily.update().where(daily.c.id == row_id)
                             .values({f'latency_{b}': int(v) for b, v in enumerate(values)}))
        last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table('feedback_response', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_response_practice_created')
    with op.batch_alter_table('rollup_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_rollup_daily_practice_day')
        for bucket in range(HISTOGRAM_SIZE):
            batch_op.drop_column(f'latency_{bucket}')
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.drop_column('is_demo')
        batch_op.drop_column('score_min_responses')
    with op.batch_alter_table('early_warning', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_early_warning_partner_id'))
        batch_op.drop_index('ix_early_warning_practice_cleared')
    op.drop_table('early_warning')
    with op.batch_alter_table('score_threshold', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_threshold_practice_id'))
    op.drop_table('score_threshold')
