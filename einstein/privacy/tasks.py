"""Celery tasks of the privacy area."""

from __future__ import annotations

from collections import Counter

from celery import shared_task
from flask import current_app

from einstein.db import db
from einstein.privacy import retention


@shared_task(name="einstein.privacy.tasks.apply_retention")
def apply_retention() -> dict[str, int]:
    """Make anonymous or remove what is past its retention period (nightly, a batch per transaction)."""
    done: Counter[str] = Counter()
    rules = retention.rules_for(current_app.config)
    try:
        for kind, changed in retention.batches(rules, int(current_app.config["RETENTION_BATCH_SIZE"])):
            db.session.commit()
            done[kind] += changed
    except Exception:
        db.session.rollback()
        raise
    return {kind: done[kind] for kind in retention.KINDS}
