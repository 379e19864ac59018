"""one own row per practice (issue 20): a partial unique index on partner(practice_id) where is_own_practice

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Two owners clicking at once could make two own rows before this index; each may hold touchpoints and
    # their history, so which to keep is a person's choice, not this script's.
    twice = op.get_bind().execute(sa.text(
        "SELECT practice_id, COUNT(*) FROM partner WHERE is_own_practice GROUP BY practice_id HAVING COUNT(*) > 1"
    )).all()
    if twice:
        practices = ", ".join(str(practice_id) for practice_id, _count in twice)
        raise RuntimeError(f"Practice ids {practices} each have more than one row for their own touchpoints "
                           "(partner.is_own_practice). Move the touchpoints onto one of them and delete the "
                           "others, then upgrade again.")
    op.create_index('uq_partner_own_practice', 'partner', ['practice_id'], unique=True,
                    sqlite_where=sa.text('is_own_practice'), postgresql_where=sa.text('is_own_practice'))


def downgrade() -> None:
    op.drop_index('uq_partner_own_practice', table_name='partner')
