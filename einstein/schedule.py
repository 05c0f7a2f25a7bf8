"""What Celery beat runs, and when: the sweeps every ``SWEEP_SECONDS`` (and once as beat starts)
and the nightly jobs.

Beat sends these tasks by name and the worker runs them, so this module needs Celery and the
configuration, not the app: the worker's Celery app (``einstein.extensions``) and beat's own
(``einstein.beat``) both take their schedule from here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from celery import Celery
from celery.schedules import crontab
from celery.signals import beat_init

log = logging.getLogger(__name__)

#: The sweeps beat runs every ``SWEEP_SECONDS`` (entry name: task), and once more as it starts.
SWEEPS = {
    "sweep-outbox": "einstein.notifications.tasks.sweep",
    "release-unanswered": "einstein.bookings.tasks.release_unanswered",
    "open-held-places": "einstein.bookings.tasks.open_held_places",
}


def beat_schedule(every: float) -> dict[str, dict[str, Any]]:
    """Beat's schedule: each sweep every ``every`` seconds (a sweep not started by then is
    dropped: the next one does its work), and the nightly jobs in Utrecht's night."""
    return {
        **{name: {"task": task, "schedule": every, "options": {"expires": every}} for name, task in SWEEPS.items()},
        "check-counters": {
            "task": "einstein.bookings.tasks.check_counters",
            "schedule": crontab(hour=3, minute=17),
        },
        "apply-retention": {
            "task": "einstein.privacy.tasks.apply_retention",
            "schedule": crontab(hour=3, minute=47),
        },
    }


def configured_celery(config: Mapping[str, Any], **options: Any) -> Celery:
    """A Celery app with the broker's settings and beat's schedule from einstein's configuration
    ``config`` (``options`` go to Celery). Beat's, made from it alone, only sends the scheduled
    tasks; the worker's adds the tasks (``einstein.extensions.celery_init_app``)."""
    celery_app = Celery("einstein", **options)
    celery_app.config_from_object(config["CELERY"])
    celery_app.conf.beat_schedule = beat_schedule(float(config["SWEEP_SECONDS"]))
    return celery_app


@beat_init.connect
def _run_sweeps_at_start(sender: Any, **_: Any) -> None:
    """Queue the sweeps as beat starts: a fresh beat (a new server, a lost schedule file) would
    otherwise first sweep ``SWEEP_SECONDS`` later, and reminders already due would wait that long.
    Each sweep is safe to run twice; a broker that does not answer leaves it to the schedule."""
    celery_app = sender.app
    for name, task in SWEEPS.items():
        try:
            celery_app.send_task(task, **celery_app.conf.beat_schedule[name]["options"])
        except Exception:  # the schedule sends it again soon
            log.warning("could not queue %s as beat started; it runs on its schedule", name, exc_info=True)
