"""Celery entry point: ``celery -A worker worker`` and ``celery -A worker beat``.

The worker sends e-mail from the outbox; beat runs the sweep that queues due reminders and
anything a broker outage left behind. Run exactly one beat per deployment.
"""

from einstein import create_app

flask_app = create_app()
#: ``celery -A worker`` finds this by name.
celery = flask_app.extensions["celery"]
