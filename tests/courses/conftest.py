"""Helpers for catalogue tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from einstein.db import utcnow
from einstein.i18n import TIMEZONE


def local_date(days: int = 7) -> date:
    return (utcnow().astimezone(TIMEZONE) + timedelta(days=days)).date()


@pytest.fixture
def offer_form() -> Any:
    """A complete, valid new-activity form, with changes: ``offer_form(title="...")``."""

    def build(**change: Any) -> dict[str, Any]:
        data = {
            "title": "Samen koken",
            "description": "We cook together and eat at one long table.",
            "language": "nl",
            "category": "social",
            "languages": ["nl", "ar"],
            "dutch_level": "none",
            "location_id": "",
            "new_place_name": "Buurthuis Lombok",
            "new_place_address": "Kanaalstraat 120",
            "new_place_postcode": "3531 CL",
            "new_place_step_free": "y",
            "contact": "Samir, 06 1234 5678",
            "capacity": "12",
            "waitlist_enabled": "y",
            "reminder_offsets": ["24h", "morning"],
            "first_date": local_date(7).isoformat(),
            "start_time": "17:30",
            "end_time": "20:30",
            "repeat": "once",
            "count": "1",
        }
        data.update(change)
        return data

    return build
