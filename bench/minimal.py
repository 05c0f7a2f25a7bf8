"""The baseline for bench/booking.py: the least a booking can be, as a bare Flask app.

One conditional UPDATE (a place is taken only while one is free) and one INSERT, on the same
database, under the same gunicorn settings: no sign-in, no forms, no waiting list, no e-mail.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask, abort

#: Made when the app serves (the benchmark imports this module to reset the tables first).
engine = sa.create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True) if "DATABASE_URL" in os.environ else None
metadata = sa.MetaData()
slots = sa.Table(
    "bench_slots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("capacity", sa.Integer),
    sa.Column("booked", sa.Integer),
)
claims = sa.Table(
    "bench_claims",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("slot_id", sa.Integer),
    sa.Column("person", sa.Integer),
)

app = Flask(__name__)


@app.get("/")
def ready() -> str:
    """Answer, so that the benchmark knows the server is up."""
    return "ready"


@app.post("/book/<int:slot_id>/<int:person>")
def book(slot_id: int, person: int) -> tuple[str, int]:
    """Take a place if one is free, else say it is full."""
    assert engine is not None
    with engine.begin() as connection:
        taken = connection.execute(
            sa.update(slots)
            .where(slots.c.id == slot_id, slots.c.booked < slots.c.capacity)
            .values(booked=slots.c.booked + 1)
        ).rowcount
        if not taken:
            abort(409)
        connection.execute(sa.insert(claims).values(slot_id=slot_id, person=person))
    return "booked", 201


def reset(url: str, count: int, capacity: int) -> None:
    """Create the two tables, empty, with ``count`` slots."""
    local = sa.create_engine(url)
    metadata.drop_all(local)
    metadata.create_all(local)
    with local.begin() as connection:
        connection.execute(
            sa.insert(slots), [{"id": i, "capacity": capacity, "booked": 0} for i in range(1, count + 1)]
        )
    local.dispose()
