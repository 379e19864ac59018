"""practice country: how partners' phone numbers without a country code are read (issue 15)

Existing practices get the country of their time zone (Pacific/Auckland: NZ), as new ones do.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('country', sa.String(length=2), server_default='', nullable=False))
    from partnermon.practices.countries import country_for_timezone
    connection = op.get_bind()
    practice = sa.table('practice', sa.column('id', sa.Integer), sa.column('timezone', sa.String),
                        sa.column('country', sa.String))
    for row in connection.execute(sa.select(practice.c.id, practice.c.timezone)).all():
        code = country_for_timezone(row.timezone)
        if code:
            connection.execute(sa.update(practice).where(practice.c.id == row.id).values(country=code))


def downgrade() -> None:
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.drop_column('country')
