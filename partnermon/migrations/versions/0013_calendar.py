"""business hours that know the calendar: the practice's region and its closure days (issue 19)

The region picks the subdivision whose public holidays count as well as the country's ("" = national only);
closure days are the practice's own days off. Both are outside business hours.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 13:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region', sa.String(length=20), server_default='', nullable=False))
    op.create_table('practice_closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=200), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('practice_id', 'day', name='uq_practice_closure_day')
    )


def downgrade() -> None:
    op.drop_table('practice_closure')
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.drop_column('region')
