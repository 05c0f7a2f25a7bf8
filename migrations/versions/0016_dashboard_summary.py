"""summary rows for the dashboard: per session, per day and category, and the changes to apply

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 09:45:00

The backfill counts every session once, by the dashboard's rules (einstein.attendance.reports):
the same figures the dashboard showed before, now kept in dashboard_sessions and summed per day
in dashboard_days. It is written here with its own table definitions, not the app's models, so
that it stays what it was when the models change.
"""
from collections import defaultdict
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

FIGURES = ('places', 'booked', 'waiting', 'present', 'absent', 'excused', 'over_capacity', 'good', 'okay', 'not_good')
UTRECHT = ZoneInfo('Europe/Amsterdam')


def _figure_columns():
    return [sa.Column(name, sa.Integer(), nullable=False) for name in FIGURES]


def upgrade():
    op.create_table('dashboard_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dashboard_changes'))
    )
    op.create_table('dashboard_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('sessions', sa.Integer(), nullable=False),
    *_figure_columns(),
    sa.PrimaryKeyConstraint('day', 'week', 'category', name=op.f('pk_dashboard_days'))
    )
    op.create_table('dashboard_sessions',
    sa.Column('session_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('counted', sa.Boolean(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    *_figure_columns(),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_dashboard_sessions'))
    )
    with op.batch_alter_table('dashboard_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_dashboard_sessions_offer_id_day', ['offer_id', 'day'], unique=False)
        batch_op.create_index('ix_dashboard_sessions_day', ['day'], unique=False)
    op.create_table('dashboard_no_shows',
    sa.Column('session_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('booking_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('session_id', 'booking_id', name=op.f('pk_dashboard_no_shows'))
    )
    with op.batch_alter_table('dashboard_no_shows', schema=None) as batch_op:
        batch_op.create_index('ix_dashboard_no_shows_starts_at_user_id', ['starts_at', 'user_id'], unique=False)
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index('ix_offers_title_id', ['title', 'id'], unique=False)
    _backfill()
    _backfill_no_shows()


def _backfill():
    """Count every session as the dashboard does, and sum the counted ones per day."""
    bind = op.get_bind()
    offers = sa.table('offers', *(sa.column(n) for n in (
        'id', 'kind', 'status', 'category', 'confirmed_count', 'waitlist_count')))
    sessions = sa.table('offer_sessions', sa.column('starts_at', sa.DateTime(timezone=True)), *(sa.column(n) for n in (
        'id', 'offer_id', 'status', 'capacity', 'confirmed_count', 'waitlist_count',
        'present_count', 'absent_count', 'excused_count')))
    bookings = sa.table('bookings', *(sa.column(n) for n in ('offer_id', 'session_id', 'status', 'over_capacity')))
    feedback = sa.table('feedback', *(sa.column(n) for n in ('session_id', 'face')))
    extra = (bookings.c.status == 'confirmed') & (bookings.c.over_capacity == sa.true())
    beyond_session = dict(bind.execute(
        sa.select(bookings.c.session_id, sa.func.count()).where(extra, bookings.c.session_id.is_not(None))
        .group_by(bookings.c.session_id)).all())
    beyond_offer = dict(bind.execute(
        sa.select(bookings.c.offer_id, sa.func.count()).where(extra, bookings.c.session_id.is_(None))
        .group_by(bookings.c.offer_id)).all())
    answers = defaultdict(dict)
    for session_id, face, count in bind.execute(
            sa.select(feedback.c.session_id, feedback.c.face, sa.func.count())
            .group_by(feedback.c.session_id, feedback.c.face)):
        answers[session_id][face] = count
    rows = bind.execute(
        sa.select(sessions.c.id, sessions.c.offer_id, sessions.c.starts_at, sessions.c.status, sessions.c.capacity,
                  sessions.c.confirmed_count, sessions.c.waitlist_count, sessions.c.present_count,
                  sessions.c.absent_count, sessions.c.excused_count, offers.c.kind, offers.c.status,
                  offers.c.category, offers.c.confirmed_count, offers.c.waitlist_count)
        .select_from(sessions.join(offers, offers.c.id == sessions.c.offer_id)))
    days = defaultdict(lambda: [0] * (1 + len(FIGURES)))
    chunk = []
    for (session_id, offer_id, starts_at, status, capacity, confirmed, waiting, present, absent, excused,
         kind, offer_status, category, offer_confirmed, offer_waiting) in rows:
        if starts_at.tzinfo is None:  # SQLite keeps UTC without its zone
            starts_at = starts_at.replace(tzinfo=UTC)
        utc_day = starts_at.astimezone(UTC).date()
        day, week = starts_at.astimezone(UTRECHT).date(), utc_day - timedelta(days=utc_day.weekday())
        course = kind == 'course'
        given = answers.get(session_id, {})
        values = {
            'places': capacity,
            'booked': offer_confirmed if course else confirmed,
            'waiting': offer_waiting if course else waiting,
            'present': present,
            'absent': absent,
            'excused': excused,
            'over_capacity': beyond_offer.get(offer_id, 0) if course else beyond_session.get(session_id, 0),
            'good': given.get('good', 0),
            'okay': given.get('okay', 0),
            'not_good': given.get('not_good', 0),
        }
        counted = status == 'scheduled' and offer_status in ('published', 'cancelled')
        chunk.append({'session_id': session_id, 'offer_id': offer_id, 'counted': counted, 'category': category,
                      'day': day, 'week': week, **values})
        if counted:
            sums = days[(day, week, category)]
            sums[0] += 1
            for index, name in enumerate(FIGURES, 1):
                sums[index] += values[name]
        if len(chunk) >= 5000:
            op.bulk_insert(_sessions_table(), chunk)
            chunk = []
    if chunk:
        op.bulk_insert(_sessions_table(), chunk)
    day_rows = [{'day': d, 'week': w, 'category': c, **dict(zip(('sessions', *FIGURES), sums))}
                for (d, w, c), sums in sorted(days.items())]
    if day_rows:
        op.bulk_insert(sa.table('dashboard_days', sa.column('day', sa.Date()), sa.column('week', sa.Date()),
                                sa.column('category'), sa.column('sessions'), *(sa.column(n) for n in FIGURES)),
                       day_rows)


def _backfill_no_shows():
    """Every absence without notice of someone who still has the booking, with its session's start."""
    attendance = sa.table('attendance', *(sa.column(n) for n in ('session_id', 'booking_id', 'status')))
    bookings = sa.table('bookings', *(sa.column(n) for n in ('id', 'user_id')))
    sessions = sa.table('offer_sessions', *(sa.column(n) for n in ('id', 'starts_at')))
    no_shows = sa.table('dashboard_no_shows', *(sa.column(n) for n in ('session_id', 'booking_id', 'user_id', 'starts_at')))
    op.execute(no_shows.insert().from_select(
        ['session_id', 'booking_id', 'user_id', 'starts_at'],
        sa.select(attendance.c.session_id, attendance.c.booking_id, bookings.c.user_id, sessions.c.starts_at)
        .select_from(attendance.join(bookings, bookings.c.id == attendance.c.booking_id)
                     .join(sessions, sessions.c.id == attendance.c.session_id))
        .where(attendance.c.status == 'absent', bookings.c.user_id.is_not(None))))


def _sessions_table():
    return sa.table('dashboard_sessions', sa.column('session_id'), sa.column('offer_id'),
                    sa.column('counted', sa.Boolean()), sa.column('category'), sa.column('day', sa.Date()),
                    sa.column('week', sa.Date()), *(sa.column(n) for n in FIGURES))


def downgrade():
    with op.batch_alter_table('dashboard_no_shows', schema=None) as batch_op:
        batch_op.drop_index('ix_dashboard_no_shows_starts_at_user_id')

    op.drop_table('dashboard_no_shows')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index('ix_offers_title_id')
    with op.batch_alter_table('dashboard_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_dashboard_sessions_day')
        batch_op.drop_index('ix_dashboard_sessions_offer_id_day')

    op.drop_table('dashboard_sessions')
    op.drop_table('dashboard_days')
    op.drop_table('dashboard_changes')
