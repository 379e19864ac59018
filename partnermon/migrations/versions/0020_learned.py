"""learned stakes and comment themes (issue 20): which weight each moment's scores use, and stored theme runs

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 16:00:00
"""

from alembic import op
import sqlalchemy as sa

import partnermon.db


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('moment_of_truth', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weight_source', sa.String(length=10), server_default='owner', nullable=False))
        batch_op.add_column(sa.Column('learned_weight', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('learned_n', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('learned_at', partnermon.db.UTCDateTime(), nullable=True))
    op.create_table(
        'theme_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('practice_id', sa.Integer(), nullable=False),
        sa.Column('created_at', partnermon.db.UTCDateTime(), nullable=False),
        sa.Column('period_start', partnermon.db.UTCDateTime(), nullable=False),
        sa.Column('period_end', partnermon.db.UTCDateTime(), nullable=False),
        sa.Column('comments', sa.Integer(), nullable=False),
        sa.Column('previous_comments', sa.Integer(), nullable=False),
        sa.Column('trigger', sa.String(length=254), nullable=False),
        sa.Column('themes', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_theme_run_practice_id_practice'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_theme_run')),
    )
    with op.batch_alter_table('theme_run', schema=None) as batch_op:
        batch_op.create_index('ix_theme_run_practice_created', ['practice_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_table('theme_run')
    with op.batch_alter_table('moment_of_truth', schema=None) as batch_op:
        batch_op.drop_column('learned_at')
        batch_op.drop_column('learned_n')
        batch_op.drop_column('learned_weight')
        batch_op.drop_column('weight_source')
