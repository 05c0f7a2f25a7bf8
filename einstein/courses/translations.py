"""Offer texts in the reader's language: translators, their queue, held translations, coverage.

A coordinator gives a bilingual volunteer (or participant) one or more languages to translate
into. The translator's queue holds the offers on the listing with no translation in that
language, or one written for an older version of the original: an edit of the original's title
or description raises ``Offer.text_version`` (``revisions.apply_words``), and every translation
written for an older version is out of date (still shown, marked, and back in the queue).

What a coordinator or a trusted volunteer writes goes online at once, as their other words do;
from anyone else a translation waits as a ``TranslationProposal``, one per offer and language,
until a coordinator approves it (the audit trail says who approved whose words).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from einstein.audit import services as audit
from einstein.auth.models import User
from einstein.caching import kept, note_catalogue_change
from einstein.courses.errors import CatalogueError
from einstein.courses.models import (
    Offer,
    OfferSession,
    OfferStatus,
    OfferTranslation,
    RevisionStatus,
    SessionStatus,
    TranslationProposal,
    TranslatorLanguage,
)
from einstein.courses.revisions import held_for_review, put_translation
from einstein.db import db, utcnow
from einstein.i18n import LANGUAGES

# --- who translates --------------------------------------------------------------------------------


def languages_of(user: User) -> list[str]:
    """The languages ``user`` translates into, in the switcher's order (coordinators: all)."""
    if user.is_coordinator:
        return list(LANGUAGES)
    given = {grant.locale for grant in user.translator_languages}
    return [code for code in LANGUAGES if code in given]


def set_languages(person: User, locales: Iterable[str], *, by: User) -> tuple[list[str], list[str]]:
    """Let ``person`` translate into exactly ``locales``; return the languages added and taken away."""
    wanted = {code for code in locales if code in LANGUAGES}
    grants: list[TranslatorLanguage] = person.translator_languages
    had = {grant.locale for grant in grants}
    added = [code for code in LANGUAGES if code in wanted - had]
    removed = [code for code in LANGUAGES if code in had - wanted]
    for grant in [g for g in grants if g.locale in removed]:
        grants.remove(grant)
    for code in added:
        grants.append(TranslatorLanguage(locale=code, granted_by_id=by.id))
    if added or removed:
        audit.record("translator.changed", actor_id=by.id, subject_id=person.id, added=added, removed=removed)
    return added, removed


# --- what waits to be translated ----------------------------------------------------------------------


def _next_start() -> sa.ScalarSelect[datetime]:
    """SQL: when an offer's next scheduled session starts (None: nothing still to come)."""
    return (
        sa.select(sa.func.min(OfferSession.starts_at))
        .where(
            OfferSession.offer_id == Offer.id,
            OfferSession.status == SessionStatus.SCHEDULED,
            OfferSession.ends_at > utcnow(),
        )
        .scalar_subquery()
    )


def _on_the_listing() -> sa.ColumnElement[bool]:
    """SQL: a published offer with a session still to come (what readers find on the listing)."""
    return sa.and_(
        Offer.status == OfferStatus.PUBLISHED,
        sa.exists().where(
            OfferSession.offer_id == Offer.id,
            OfferSession.status == SessionStatus.SCHEDULED,
            OfferSession.ends_at > utcnow(),
        ),
    )


def _translated_up_to_date(locale: str) -> sa.Exists:
    return sa.exists().where(
        OfferTranslation.offer_id == Offer.id,
        OfferTranslation.locale == locale,
        OfferTranslation.source_version >= Offer.text_version,
    )


def queue(locale: str) -> sa.Select[Offer]:
    """Offers on the listing with no up-to-date translation into ``locale``, the soonest first."""
    next_start = _next_start()
    return (
        sa.select(Offer)
        .where(_on_the_listing(), Offer.language != locale, ~_translated_up_to_date(locale))
        .options(selectinload(Offer.translations))
        .order_by(next_start, Offer.id)
    )


@dataclass
class QueueItem:
    """One offer in a translator's queue, with what there is of it in their language."""

    offer: Offer
    #: the translation online, written for an older version (None: none at all)
    outdated: OfferTranslation | None
    #: a translation waiting for a coordinator
    waiting: TranslationProposal | None
    #: the latest translation a coordinator did not approve, with the reason
    declined: TranslationProposal | None


def queue_items(offers: list[Offer], locale: str) -> list[QueueItem]:
    """What there is of each offer in ``locale``: one query for the waiting and declined ones."""
    proposals: dict[tuple[int, RevisionStatus], TranslationProposal] = {}
    if offers:
        rows = db.session.scalars(
            sa.select(TranslationProposal)
            .where(
                TranslationProposal.offer_id.in_([offer.id for offer in offers]),
                TranslationProposal.locale == locale,
                TranslationProposal.status != RevisionStatus.APPROVED,
            )
            .order_by(TranslationProposal.updated_at, TranslationProposal.id)
        )
        for proposal in rows:  # the latest of each kind wins
            proposals[(proposal.offer_id, proposal.status)] = proposal
    items = []
    for offer in offers:
        online = next((t for t in offer.translations if t.locale == locale), None)
        waiting = proposals.get((offer.id, RevisionStatus.PENDING))
        declined = proposals.get((offer.id, RevisionStatus.REJECTED))
        if declined is not None and waiting is not None and waiting.updated_at >= declined.updated_at:
            declined = None
        items.append(QueueItem(offer, online, waiting, declined))
    return items


# --- writing, and the coordinator's decision ---------------------------------------------------------


def pending_proposal(offer: Offer, locale: str) -> TranslationProposal | None:
    """The translation of ``offer`` into ``locale`` that waits for a coordinator, if any."""
    return db.session.scalar(
        sa.select(TranslationProposal).where(
            TranslationProposal.offer_id == offer.id,
            TranslationProposal.locale == locale,
            TranslationProposal.status == RevisionStatus.PENDING,
        )
    )


def write(offer: Offer, locale: str, title: str, description: str, author: User) -> bool:
    """Put a translation online, or hold it for a coordinator; return True when it waits.

    Coordinators and trusted volunteers publish at once (a translator who is neither, or an
    organiser whose words wait, proposes). A translator writing for someone else's offer is
    recorded in the audit trail, as any change to another person's offer is.
    """
    if held_for_review(offer, author):
        return _propose(offer, locale, title, description, author)
    put_translation(offer, locale, title, description)
    if offer.organiser_id != author.id:
        audit.record(
            "translation.published", actor_id=author.id, subject_id=offer.organiser_id, offer_id=offer.id, locale=locale
        )
    return False


def _propose(offer: Offer, locale: str, title: str, description: str, author: User) -> bool:
    proposal = pending_proposal(offer, locale)
    online = next((t for t in offer.translations if t.locale == locale), None)
    if online is not None and not online.outdated and (online.title, online.description) == (title, description):
        if proposal is not None:  # back to what is online: nothing waits any more
            db.session.delete(proposal)
            note_catalogue_change(db.session())  # the count of what waits changed
        return False
    if proposal is None:
        proposal = TranslationProposal(offer=offer, locale=locale)
        db.session.add(proposal)
        note_catalogue_change(db.session())
    proposal.author_id = author.id
    proposal.title, proposal.description = title, description
    proposal.source_version = offer.text_version or 0
    proposal.updated_at = utcnow()
    return True


def proposals_waiting() -> list[TranslationProposal]:
    """Translations waiting for a coordinator, oldest first."""
    return list(
        db.session.scalars(
            sa.select(TranslationProposal)
            .where(TranslationProposal.status == RevisionStatus.PENDING)
            .options(
                joinedload(TranslationProposal.offer).selectinload(Offer.translations),
                joinedload(TranslationProposal.author),
            )
            .order_by(TranslationProposal.created_at, TranslationProposal.id)
        )
    )


def _decided(proposal: TranslationProposal, coordinator: User, status: RevisionStatus) -> None:
    if proposal.status != RevisionStatus.PENDING:
        raise CatalogueError(str(_l("This translation was already decided.")))
    proposal.status = status
    proposal.decided_by_id, proposal.decided_at = coordinator.id, utcnow()
    note_catalogue_change(db.session())  # the count of what waits changed


def approve(proposal: TranslationProposal, coordinator: User) -> None:
    """Put a held translation online (out of date at once if the original changed meanwhile)."""
    _decided(proposal, coordinator, RevisionStatus.APPROVED)
    put_translation(proposal.offer, proposal.locale, proposal.title, proposal.description, proposal.source_version)
    audit.record(
        "translation.approved",
        actor_id=coordinator.id,
        subject_id=proposal.author_id,
        offer_id=proposal.offer_id,
        locale=proposal.locale,
    )


def reject(proposal: TranslationProposal, coordinator: User, reason: str) -> None:
    """Keep a held translation off the pages; its translator sees why in their queue (a no needs a reason)."""
    reason = (reason or "").strip()
    if not reason:
        raise CatalogueError(str(_l("Please tell the translator why (they see your words).")), field="reason")
    _decided(proposal, coordinator, RevisionStatus.REJECTED)
    proposal.reason = reason
    audit.record(
        "translation.rejected",
        actor_id=coordinator.id,
        subject_id=proposal.author_id,
        offer_id=proposal.offer_id,
        locale=proposal.locale,
    )


# --- titles for staff pages ------------------------------------------------------------------------------


def titles_in(offer_ids: Iterable[int], locale: str) -> dict[int, tuple[str, str]]:
    """The title a reader of ``locale`` sees for each offer, with its language (one query), for
    staff pages that list offers from report rows (the dashboard) rather than from ``Offer``."""
    ids = sorted(set(offer_ids))
    if not ids:
        return {}
    found: dict[int, tuple[str, str]] = {}
    rows = db.session.execute(
        sa.select(Offer.id, Offer.title, Offer.language, OfferTranslation.title)
        .outerjoin(
            OfferTranslation,
            sa.and_(OfferTranslation.offer_id == Offer.id, OfferTranslation.locale == locale),
        )
        .where(Offer.id.in_(ids))
    )
    for offer_id, title, language, translated in rows:
        found[offer_id] = (translated, locale) if translated and language != locale else (title, language)
    return found


# --- coverage ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    """How much of the listing readers of one language can read in it."""

    locale: str
    #: offers on the listing written in another language (those that need a translation)
    needed: int
    up_to_date: int
    outdated: int

    @property
    def missing(self) -> int:
        return self.needed - self.up_to_date - self.outdated

    @property
    def percent(self) -> int:
        """The share translated and up to date, rounded down (100 only when all are)."""
        return 100 * self.up_to_date // self.needed if self.needed else 100


#: How long the coverage may be kept (new at once when the catalogue changes; sessions end meanwhile).
COVERAGE_SECONDS = 60


def coverage() -> list[Coverage]:
    """Per language: the offers on the listing it needs, and how many are translated (up to date),
    kept briefly like the dashboard's other figures."""
    return list(kept("translation-coverage", (), _count_coverage, timeout=COVERAGE_SECONDS))


def _count_coverage() -> list[Coverage]:
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Offer).where(_on_the_listing())) or 0
    written = {
        language: int(count)
        for language, count in db.session.execute(
            sa.select(Offer.language, sa.func.count()).where(_on_the_listing()).group_by(Offer.language)
        )
    }
    outdated = OfferTranslation.source_version < Offer.text_version
    counts = {
        locale: (int(fresh or 0), int(old or 0))
        for locale, fresh, old in db.session.execute(
            sa.select(
                OfferTranslation.locale,
                sa.func.count().filter(~outdated),
                sa.func.count().filter(outdated),
            )
            .join(Offer, Offer.id == OfferTranslation.offer_id)
            .where(_on_the_listing(), Offer.language != OfferTranslation.locale)
            .group_by(OfferTranslation.locale)
        )
    }
    return [Coverage(code, total - written.get(code, 0), *counts.get(code, (0, 0))) for code in LANGUAGES]
