"""the ladder and outcomes (issue 19): a follow-up's rung, what became of the client, the top-rung notice

The rung is backfilled from the severity rule (mild → email, serious → phone, brand → meeting); follow-ups
resolved before now keep no outcome kind (their note stays in ``outcome``).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 14:25:00
"""

from alembic import op
import sqlalchemy as sa

import partnermon.db


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rung', sa.String(length=10), server_default='email', nullable=False))
        batch_op.add_column(sa.Column('outcome_kind', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('moved_to_partner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('top_told_at', partnermon.db.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key('fk_follow_up_moved_to_partner_id_partner', 'partner',
                                    ['moved_to_partner_id'], ['id'], ondelete='SET NULL')
    op.execute("UPDATE follow_up SET rung = CASE severity WHEN 'brand' THEN 'meeting' "
               "WHEN 'serious' THEN 'phone' ELSE 'email' END")


def downgrade() -> None:
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_constraint('fk_follow_up_moved_to_partner_id_partner', type_='foreignkey')
        batch_op.drop_column('top_told_at')
        batch_op.drop_column('moved_to_partner_id')
        batch_op.drop_column('outcome_kind')
        batch_op.drop_column('rung')
