"""Celery beat's entry point: ``celery -A einstein.beat beat``. Run exactly one per deployment.

Beat only sends the scheduled tasks, by name (``einstein.schedule``); the worker runs them. So
beat loads einstein's configuration, its logging and error reports, and not the app with every
area, its database and its templates (``celery -A worker beat`` works too, and loads them all):
measured here, beat is ready in 0.5 s instead of 1.4 s and holds 60 MB instead of 133 MB, so the
reminders already due when it (re)starts are queued a second sooner (bench/RESULTS.md).
"""

from flask import Flask

from einstein import __version__, observability, schedule
from einstein.config import configured_app

_config = configured_app(None, Flask).config
observability.init_process(_config, __version__)

#: ``celery -A einstein.beat`` finds this by name.
celery = schedule.configured_celery(_config)
