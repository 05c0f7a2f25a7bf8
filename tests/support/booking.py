"""Booking through the app, as the buttons on the offer page do."""

from __future__ import annotations

from typing import Any


def book(client, activity_or_course: dict[str, Any], waitlist: bool = False, **extra: Any):
    """POST the booking form, as the button on the offer page does."""
    data = {"waitlist": "1" if waitlist else "", **extra}
    if "session_id" in activity_or_course:
        return client.post(
            f"/sessions/{activity_or_course['session_id']}/book", data=data, headers={"Accept-Language": "en"}
        )
    return client.post(f"/offers/{activity_or_course['offer_id']}/book", data=data, headers={"Accept-Language": "en"})
