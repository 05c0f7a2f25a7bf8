"""Words that reach participants: who may publish them at once, and review of the others.

A volunteer who is not trusted may not put words in front of participants on their own: on a
public offer their new title, description, contact, language, place or translation waits as a
revision, while the approved version stays online (and in the search), until a coordinator
approves it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from einstein.auth.models import User
from einstein.caching import kept, note_catalogue_change
from einstein.courses import messages
from einstein.courses.errors import CatalogueError
from einstein.courses.models import (
    Location,
    Offer,
    OfferRevision,
    OfferStatus,
    OfferTranslation,
    RevisionStatus,
)
from einstein.db import db, utcnow
from einstein.i18n import language_name
from einstein.policy import publishes_directly

log = logging.getLogger(__name__)

REVIEWED_FIELDS = ("title", "description", "language", "contact", "location_id")
#: Offers that participants can read.


PUBLIC = frozenset({OfferStatus.PUBLISHED, OfferStatus.CANCELLED})
#: How the review page names each reviewed part.


FIELD_LABELS = {
    "title": _l("Title"),
    "description": _l("Description"),
    "language": _l("Written in"),
    "contact": _l("Contact"),
    "location_id": _l("Place"),
}


def held_for_review(offer: Offer, editor: User) -> bool:
    """Whether ``editor``'s new words for ``offer`` must wait for a coordinator."""
    return offer.status in PUBLIC and not publishes_directly(editor)


def approve_place(place: Location | None) -> None:
    """Someone who may publish uses this place: it may now reach participants."""
    if place is not None and place.approved_at is None:
        place.approved_at = utcnow()


def refresh_search_text(offer: Offer) -> None:
    """Keep the text the catalogue search looks in up to date."""
    parts = [offer.title, offer.description[:1000]]
    for translation in offer.translations:
        parts += [translation.title, translation.description[:1000]]
    offer.search_text = " ".join(part for part in parts if part).lower()


def apply_words(offer: Offer, words: dict[str, Any]) -> None:
    """Put new words online; a new title or description leaves the translations out of date."""
    retold = any(name in words and words[name] != getattr(offer, name) for name in ("title", "description"))
    for name, value in words.items():
        if name == "location_id":
            offer.location = db.session.get(Location, value)
            approve_place(offer.location)
        elif name in REVIEWED_FIELDS:
            setattr(offer, name, value)
    if retold:
        offer.text_version = (offer.text_version or 0) + 1
    refresh_search_text(offer)


def put_translation(offer: Offer, locale: str, title: str, description: str, source_version: int | None = None) -> None:
    """Put a translation online, written for the original's ``source_version`` (by default: as it is now)."""
    translation = next((t for t in offer.translations if t.locale == locale), None)
    if translation is None:
        translation = OfferTranslation(locale=locale, title=title, description=description)
        offer.translations.append(translation)
    translation.title, translation.description = title, description
    current = offer.text_version or 0
    translation.source_version = current if source_version is None else min(source_version, current)
    refresh_search_text(offer)


def drop_translation(offer: Offer, locale: str) -> None:
    offer.translations = [t for t in offer.translations if t.locale != locale]
    refresh_search_text(offer)


def pending_revision(offer: Offer) -> OfferRevision | None:
    """The change to ``offer`` that waits for a coordinator, if any."""
    return db.session.scalar(
        sa.select(OfferRevision).where(
            OfferRevision.offer_id == offer.id, OfferRevision.status == RevisionStatus.PENDING
        )
    )


def propose(
    offer: Offer, author: User, words: dict[str, Any] | None = None, translations: dict[str, Any] | None = None
) -> bool:
    """Hold new words (and translations) for ``offer`` until a coordinator decides; return whether
    anything differs from what is online. A second edit adds to the waiting revision."""
    revision = pending_revision(offer)
    changes = dict(revision.changes) if revision is not None else {}
    for name, value in (words or {}).items():
        live = offer.location_id if name == "location_id" else getattr(offer, name)
        if value == live:
            changes.pop(name, None)
        else:
            changes[name] = value
    if translations:
        held = dict(changes.get("translations") or {})
        held.update(translations)
        changes["translations"] = held
    if not changes:
        if revision is not None:
            db.session.delete(revision)
            note_catalogue_change(db.session())  # the count of what waits changed
        return False
    if revision is None:
        revision = OfferRevision(offer=offer, author=author)
        db.session.add(revision)
        note_catalogue_change(db.session())
    revision.author = author
    revision.changes = changes
    return True


@dataclass
class Difference:
    """One part of an offer as it is online and as the revision would make it."""

    label: str
    before: str
    after: str
    #: the language of the text, for reading it (a translation)
    lang: str | None = None


def differences(revision: OfferRevision) -> list[Difference]:
    """What the revision changes, side by side, for the coordinator who decides."""
    offer, result = revision.offer, []
    for name in REVIEWED_FIELDS:
        if name not in revision.changes:
            continue
        after = revision.changes[name]
        if name == "location_id":
            place = db.session.get(Location, after)
            before = offer.location.one_line if offer.location else ""
            result.append(Difference(str(FIELD_LABELS[name]), before, place.one_line if place else ""))
        elif name == "language":
            result.append(Difference(str(FIELD_LABELS[name]), language_name(offer.language), language_name(after)))
        else:
            label, before = str(FIELD_LABELS[name]), str(getattr(offer, name) or "")
            result.append(Difference(label, before, str(after or ""), offer.language))
    for locale, text in sorted((revision.changes.get("translations") or {}).items()):
        live = next((t for t in offer.translations if t.locale == locale), None)
        label = str(_l("Translation: %(language)s", language=language_name(locale)))
        before = f"{live.title}\n\n{live.description}".strip() if live else ""
        after = f"{text['title']}\n\n{text['description']}".strip() if text else ""
        result.append(Difference(label, before, after, locale))
    return result


def required_reason(reason: str) -> str:
    """The reason a coordinator gives for a no, or CatalogueError: the volunteer must learn why."""
    reason = (reason or "").strip()
    if not reason:
        raise CatalogueError(str(_l("Please tell the volunteer why (they get your words).")), field="reason")
    return reason


def approve_revision(revision: OfferRevision, coordinator: User) -> None:
    """Put the held words online; the volunteer is told."""
    if revision.status != RevisionStatus.PENDING:
        raise CatalogueError(str(_l("This change was already decided.")))
    offer = revision.offer
    apply_words(offer, {k: v for k, v in revision.changes.items() if k in REVIEWED_FIELDS})
    for locale, text in (revision.changes.get("translations") or {}).items():
        if text is None:
            drop_translation(offer, locale)
        else:
            put_translation(offer, locale, text["title"], text["description"])
    revision.status = RevisionStatus.APPROVED
    revision.decided_by_id, revision.decided_at = coordinator.id, utcnow()
    note_catalogue_change(db.session())  # the count of what waits changed
    messages.tell_revision_decided(revision)


def reject_revision(revision: OfferRevision, coordinator: User, reason: str) -> None:
    """Keep the approved words online; the volunteer is told why (a no needs a reason)."""
    if revision.status != RevisionStatus.PENDING:
        raise CatalogueError(str(_l("This change was already decided.")))
    revision.reason = required_reason(reason)
    revision.status = RevisionStatus.REJECTED
    revision.decided_by_id, revision.decided_at = coordinator.id, utcnow()
    note_catalogue_change(db.session())  # the count of what waits changed
    messages.tell_revision_decided(revision)


def revisions_waiting() -> list[OfferRevision]:
    """Changes waiting for a coordinator, oldest first."""
    return list(
        db.session.scalars(
            sa.select(OfferRevision)
            .where(OfferRevision.status == RevisionStatus.PENDING)
            .options(joinedload(OfferRevision.offer).selectinload(Offer.translations), joinedload(OfferRevision.author))
            .order_by(OfferRevision.created_at)
        )
    )


#: How long the count of what waits for review is kept (a decision or a new activity makes it
#: stale at once: they change the catalogue's version).
WAITING_COUNT_SECONDS = 30


def waiting_count() -> int:
    """How many activities and changes wait for a coordinator: one COUNT query, kept briefly."""
    return int(kept("review-waiting", (), _count_waiting, timeout=WAITING_COUNT_SECONDS))


def _count_waiting() -> int:
    offers = sa.select(sa.func.count()).select_from(Offer).where(Offer.status == OfferStatus.PENDING)
    changes = (
        sa.select(sa.func.count()).select_from(OfferRevision).where(OfferRevision.status == RevisionStatus.PENDING)
    )
    return int(db.session.scalar(sa.select(offers.scalar_subquery() + changes.scalar_subquery())) or 0)


def latest_revisions(offer_ids: list[int]) -> dict[int, OfferRevision]:
    """The newest revision of each of these offers, waiting or decided (for "my offers": changes
    that wait, or why the last ones were not published)."""
    if not offer_ids:
        return {}
    found: dict[int, OfferRevision] = {}
    rows = db.session.scalars(
        sa.select(OfferRevision)
        .where(OfferRevision.offer_id.in_(offer_ids))
        .order_by(OfferRevision.offer_id, OfferRevision.updated_at.desc(), OfferRevision.id.desc())
    )
    for revision in rows:
        found.setdefault(revision.offer_id, revision)
    return found
