"""What a person is told when a booking cannot be made, in one place."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from einstein.errors import CodedError

#: What a participant is told when a booking cannot be made, in one place.
ERRORS = {
    "not_public": _l("This offer is not open for booking."),
    "cancelled": _l("This session has been cancelled."),
    "started": _l("This has already started, so it can no longer be booked."),
    "no_sessions": _l("This course has no sessions left to book."),
    "full": _l("Sorry, this is full and there is no waiting list."),
    "full_offer_waitlist": _l("It just got full. You can join the waiting list: if a place comes free, it is yours."),
    "already_booked": _l("You already have a place."),
    "already_waitlisted": _l("You are already on the waiting list."),
    "wrong_kind": _l("A course is booked as a whole, not one session at a time."),
    "already_cancelled": _l("This booking was already cancelled."),
    "changed": _l("This booking changed after the page was opened: nothing was done. Please check it again."),
    "cancel_started": _l("This has already started, so the booking can no longer be cancelled here."),
    "not_held": _l("This place is not waiting for an answer: it is yours already, or it was given away."),
    "hold_over": _l("Sorry, the time to keep this place is over: it went to the next person on the waiting list."),
    "held_waitlist": _l(
        "The places open to everyone are taken. The other places are held for the mix until %(until)s; "
        "then they open to everyone. You can join the waiting list: if a place comes free for you, it is yours."
    ),
    "held_full": _l(
        "Sorry, the places open to everyone are taken and there is no waiting list. The other places are "
        "held for the mix until %(until)s; then they open to everyone."
    ),
    "capacity_below_booked": _l(
        "There are already %(booked)d people booked: the number of places cannot be lower than that."
    ),
}


class BookingError(CodedError):
    """A booking that cannot be made, with a message for the person."""

    messages = ERRORS


class BookingChangedError(BookingError):
    """A one-tap action sent for a state the booking is no longer in (the form says what was seen)."""

    def __init__(self) -> None:
        super().__init__("changed")
