"""The worker's Celery entry point: ``celery -A worker worker``.

The worker sends e-mail from the outbox and runs the sweep that beat queues (due reminders and
anything a broker outage left behind). Beat has a lighter entry point of its own,
``celery -A einstein.beat beat`` (``celery -A worker beat`` works too, loading the whole app).
Run exactly one beat per deployment.
"""

from einstein import create_app

flask_app = create_app()
#: ``celery -A worker`` finds this by name.
celery = flask_app.extensions["celery"]
