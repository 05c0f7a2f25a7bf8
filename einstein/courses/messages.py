"""Messages to volunteers about what they put up for review: their activity or their changes
were approved, or not (with the coordinator's reason).

Written in the same transaction as the decision (``tell_offer_decided``,
``tell_revision_decided``), by e-mail or SMS, whichever reaches the volunteer (``auth.reach``).
"""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from einstein.auth.messages import recipient
from einstein.auth.models import User
from einstein.auth.reach import channel_for
from einstein.courses.models import Offer, OfferRevision, OfferStatus, RevisionStatus
from einstein.db import db, utcnow
from einstein.mail import link_in, render_email
from einstein.notifications import outbox, registry, sms
from einstein.notifications.channels import Later, Outgoing
from einstein.notifications.models import Notification
from einstein.notifications.segments import cost
from einstein.urls import external_url


class CourseMessage(enum.StrEnum):
    """The kinds of message about a coordinator's decision."""

    ACTIVITY_APPROVED = "activity_approved"
    ACTIVITY_REJECTED = "activity_rejected"
    CHANGES_APPROVED = "changes_approved"
    CHANGES_REJECTED = "changes_rejected"


KINDS = frozenset(kind.value for kind in CourseMessage)
#: How a text that does not fit is shortened, step by step: (title, reason) at most this long
#: (None: whole). The reason gives way first, down to 40 characters, then the title.
_SHORTER = [
    *((None, n) for n in (240, 160, 110, 80, 60, 40)),
    *((n, 40) for n in (60, 45, 35, 28, 22, 16)),
]


def _cut(text: str, length: int | None) -> str:
    return text if length is None else sms.shorten(text, length)


def _sentence(text: str) -> str:
    """The reason as a sentence in a text, so that the link after it reads apart."""
    text = " ".join(text.split())
    return text if not text or text[-1] in ".!?…؟።" else text + "."


def _row(kind: CourseMessage, person: User, **payload: Any) -> outbox.OutboxRow:
    return outbox.row(kind, person.id, channel=channel_for(person), payload=payload)


def tell_offer_decided(offer: Offer) -> None:
    """Tell the volunteer that their activity is published, or why not (in this transaction)."""
    if offer.organiser is None:
        return
    kind = CourseMessage.ACTIVITY_APPROVED if offer.is_public else CourseMessage.ACTIVITY_REJECTED
    outbox.add([_row(kind, offer.organiser, offer_id=offer.id)])


def tell_revision_decided(revision: OfferRevision) -> None:
    """Tell the volunteer that their changes are online, or why not (in this transaction)."""
    if revision.author is None:
        return
    approved = revision.status == RevisionStatus.APPROVED
    kind = CourseMessage.CHANGES_APPROVED if approved else CourseMessage.CHANGES_REJECTED
    outbox.add([_row(kind, revision.author, offer_id=revision.offer_id, revision_id=revision.id)])


# --- what the message says --------------------------------------------------------------------------


def _decision(notification: Notification) -> tuple[Offer, str] | None:
    """The offer the message is about and the reason, while the decision it reports still holds."""
    payload = notification.payload
    offer = db.session.get(Offer, payload.get("offer_id") or 0)
    if offer is None:
        return None
    kind = notification.kind
    if kind in (CourseMessage.ACTIVITY_APPROVED, CourseMessage.ACTIVITY_REJECTED):
        wanted = OfferStatus.PUBLISHED if kind == CourseMessage.ACTIVITY_APPROVED else OfferStatus.REJECTED
        return (offer, offer.rejection_reason) if offer.status == wanted else None
    revision = db.session.get(OfferRevision, payload.get("revision_id") or 0)
    wanted_revision = RevisionStatus.APPROVED if kind == CourseMessage.CHANGES_APPROVED else RevisionStatus.REJECTED
    if revision is None or revision.offer_id != offer.id or revision.status != wanted_revision:
        return None
    return offer, revision.reason


def _email(notification: Notification) -> Outgoing | None:
    """Write the e-mail of any of the four kinds: ``emails/courses/<kind>``."""
    user, decided = recipient(notification), _decision(notification)
    if decided is None or not user.wants_email or not user.email:
        return None
    offer, reason = decided
    title, _description = offer.text_in(user.locale)
    message = render_email(
        f"courses/{notification.kind}",
        user.email,
        user.locale,
        user=user,
        title=title,
        reason=reason,
        link=link_in(user.locale, "courses.offer_detail", offer_id=offer.id),
        my_offers_link=link_in(user.locale, "courses.my_offers"),
        edit_link=link_in(user.locale, "courses.edit_offer", offer_id=offer.id),
    )
    return Outgoing(user.email, message)


def _text(notification: Notification) -> Outgoing | Later | None:
    """Write the text of any of the four kinds, in two segments: the link is never cut; a long
    reason gives way first (the whole of it is on "my offers", where the link leads), then the title."""
    user, decided = recipient(notification), _decision(notification)
    if decided is None or not user.wants_sms or not user.phone:
        return None
    now = utcnow()
    morning = sms.daytime(now, now + timedelta(days=1))  # nothing here is urgent: never at night
    if morning is not None:
        return Later(morning)
    offer, reason = decided
    title, _description = offer.text_in(user.locale)
    rejected = notification.kind in (CourseMessage.ACTIVITY_REJECTED, CourseMessage.CHANGES_REJECTED)
    # a no leads to "my offers", where the whole reason is; a yes to the offer people now see
    where = external_url("courses.my_offers") if rejected else external_url("courses.offer_detail", offer_id=offer.id)
    link = sms.bare(where)
    template = f"courses/{notification.kind}"

    def write(shown_title: str, shown_reason: str) -> str:
        return sms.render_text(template, user.locale, title=shown_title, reason=_sentence(shown_reason), link=link)

    text = write(title, reason)
    for title_length, reason_length in _SHORTER:
        if cost(text).segments <= sms.BUDGET:
            break
        text = write(_cut(title, title_length), _cut(reason, reason_length))
    return Outgoing(user.phone, text, segments=cost(text).segments)


def preload(rows: list[Notification]) -> None:
    """Load the offers and revisions of a batch, with their translations, in a few queries."""
    ours = [row.payload for row in rows if row.kind in KINDS]
    offer_ids = {payload["offer_id"] for payload in ours if payload.get("offer_id")}
    revision_ids = {payload["revision_id"] for payload in ours if payload.get("revision_id")}
    if offer_ids:
        db.session.scalars(
            sa.select(Offer).where(Offer.id.in_(offer_ids)).options(selectinload(Offer.translations))
        ).all()
    if revision_ids:
        db.session.scalars(
            sa.select(OfferRevision).where(OfferRevision.id.in_(revision_ids)).options(joinedload(OfferRevision.offer))
        ).all()


def register() -> None:
    """Tell the notification layer about the messages to volunteers about review."""
    registry.register_preload("courses", preload)
    for kind, label in (
        (CourseMessage.ACTIVITY_APPROVED, _l("Activity approved")),
        (CourseMessage.ACTIVITY_REJECTED, _l("Activity not approved")),
        (CourseMessage.CHANGES_APPROVED, _l("Changes approved")),
        (CourseMessage.CHANGES_REJECTED, _l("Changes not approved")),
    ):
        registry.register(kind, label, email=_email, sms=_text)
