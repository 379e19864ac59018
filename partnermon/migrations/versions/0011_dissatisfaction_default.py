"""dissatisfaction default: practices that exist keep the old 20 % limit as their own

The built-in dissatisfaction limit becomes 10 % (issue 14). A limit is applied from its default whenever a
practice has no stored row, and the thresholds page never stored a limit equal to the default; so without
this migration every existing practice would silently move from 20 % to 10 %. Each practice without its own
practice-wide dissatisfaction limit gets the old default stored, exactly as if its owner had chosen it.
Limits set per moment are left as they are. Downgrading removes those rows again (under the old code a
stored practice-wide 20 % could not exist: it equalled the default and was never kept).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00
"""

from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
import partnermon.db


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OLD_DEFAULT = 0.20

practice = sa.table('practice', sa.column('id', sa.Integer()))
threshold = sa.table(
    'score_threshold', sa.column('practice_id', sa.Integer()), sa.column('moment_id', sa.Integer()),
    sa.column('measure', sa.String()), sa.column('limit', sa.Float()), sa.column('enabled', sa.Boolean()),
    sa.column('updated_at', partnermon.db.UTCDateTime()))


def upgrade() -> None:
    own = (sa.select(threshold.c.practice_id)
           .where(threshold.c.practice_id == practice.c.id, threshold.c.moment_id.is_(None),
                  threshold.c.measure == 'dissatisfaction'))
    now = datetime.now(timezone.utc)
    rows = sa.select(practice.c.id, sa.null(), sa.literal('dissatisfaction', sa.String()),
                     sa.literal(OLD_DEFAULT, sa.Float()), sa.true(),
                     sa.literal(now, partnermon.db.UTCDateTime())).where(~own.exists())
    op.execute(sa.insert(threshold).from_select(
        ['practice_id', 'moment_id', 'measure', 'limit', 'enabled', 'updated_at'], rows))


def downgrade() -> None:
    op.execute(sa.delete(threshold).where(threshold.c.moment_id.is_(None),
                                          threshold.c.measure == 'dissatisfaction',
                                          threshold.c.limit == OLD_DEFAULT))
