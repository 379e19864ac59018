"""promises and the practice's own touchpoints (issue 20): promise, partner.is_own_practice,
moment_of_truth.ask_duration, feedback_response.duration_seconds / duration_text

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 16:00:00
"""

from alembic import op
import sqlalchemy as sa

import partnermon.db


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_own_practice', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('moment_of_truth', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ask_duration', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('feedback_response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('duration_seconds', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('duration_text', sa.String(length=60), server_default='', nullable=False))
    op.create_table(
        'promise',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('practice_id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('touchpoint_id', sa.Integer(), nullable=True),
        sa.Column('moment_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('quote', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=500), nullable=False),
        sa.Column('measure', sa.String(length=20), nullable=False),
        sa.Column('target', sa.Float(), nullable=False),
        sa.Column('created_at', partnermon.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', partnermon.db.UTCDateTime(), nullable=False),
        sa.Column('told_for', sa.String(length=7), nullable=True),
        sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], name=op.f('fk_promise_practice_id_practice'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_promise_partner_id_partner'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoint.id'], name=op.f('fk_promise_touchpoint_id_touchpoint'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['moment_id'], ['moment_of_truth.id'],
                                name=op.f('fk_promise_moment_id_moment_of_truth'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_promise')),
    )
    with op.batch_alter_table('promise', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promise_practice_id'), ['practice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_promise_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_promise_touchpoint_id'), ['touchpoint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_promise_moment_id'), ['moment_id'], unique=False)


def downgrade() -> None:
    op.drop_table('promise')
    with op.batch_alter_table('feedback_response', schema=None) as batch_op:
        batch_op.drop_column('duration_text')
        batch_op.drop_column('duration_seconds')
    with op.batch_alter_table('moment_of_truth', schema=None) as batch_op:
        batch_op.drop_column('ask_duration')
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.drop_column('is_own_practice')
