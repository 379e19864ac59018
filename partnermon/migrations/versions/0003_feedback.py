"""feedback

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:45:01.562223
"""

from alembic import op
import sqlalchemy as sa
import partnermon.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Feedback requests and responses, API keys, practice feedback settings (issue 4).
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('last_used_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_practice_id'), ['practice_id'], unique=False)

    op.create_table('feedback_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('touchpoint_id', sa.Integer(), nullable=True),
    sa.Column('moment_id', sa.Integer(), nullable=True),
    sa.Column('adviser_id', sa.Integer(), nullable=True),
    sa.Column('client_name', sa.String(length=200), nullable=False),
    sa.Column('client_email', sa.String(length=254), nullable=False),
    sa.Column('external_ref', sa.String(length=100), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('created_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('sent_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('opened_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('answered_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', partnermon.db.UTCDateTime(), nullable=True),
    sa.Column('throttle_overridden', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['adviser_id'], ['user_account.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['moment_id'], ['moment_of_truth.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['touchpoint_id'], ['touchpoint.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('practice_id', 'external_ref', name='uq_feedback_request_external_ref'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('feedback_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_request_adviser_id'), ['adviser_id'], unique=False)
        batch_op.create_index('ix_feedback_request_client', ['practice_id', 'client_email', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_request_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_request_practice_id'), ['practice_id'], unique=False)

    op.create_table('feedback_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('moment_id', sa.Integer(), nullable=True),
    sa.Column('satisfaction', sa.SmallInteger(), nullable=False),
    sa.Column('recommend', sa.SmallInteger(), nullable=True),
    sa.Column('effort', sa.SmallInteger(), nullable=True),
    sa.Column('brand_effect', sa.String(length=10), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('wants_contact', sa.Boolean(), nullable=False),
    sa.Column('contact_channel', sa.String(length=10), nullable=True),
    sa.Column('contact_phone', sa.String(length=40), nullable=False),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('created_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', partnermon.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['moment_id'], ['moment_of_truth.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['practice.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['feedback_request.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id')
    )
    with op.batch_alter_table('feedback_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_response_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_response_practice_id'), ['practice_id'], unique=False)

    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback_throttle_days', sa.Integer(), server_default='30', nullable=False))
        batch_op.add_column(sa.Column('feedback_link_days', sa.Integer(), server_default='30', nullable=False))
        batch_op.add_column(sa.Column('open_feedback_link', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    # Feedback requests and responses, API keys, practice feedback settings (issue 4).
    with op.batch_alter_table('practice', schema=None) as batch_op:
        batch_op.drop_column('open_feedback_link')
        batch_op.drop_column('feedback_link_days')
        batch_op.drop_column('feedback_throttle_days')

    with op.batch_alter_table('feedback_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_response_practice_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_response_partner_id'))

    op.drop_table('feedback_response')
    with op.batch_alter_table('feedback_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_request_practice_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_request_partner_id'))
        batch_op.drop_index('ix_feedback_request_client')
        batch_op.drop_index(batch_op.f('ix_feedback_request_adviser_id'))

    op.drop_table('feedback_request')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_practice_id'))

    op.drop_table('api_key')
