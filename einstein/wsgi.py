"""WSGI entry point for gunicorn: ``gunicorn einstein.wsgi:app``.

A WSGI server is how einstein runs in production, so here an unset EINSTEIN_ENV means
production (with its checks: a real SECRET_KEY, Redis for the limits), never the development
defaults. ``make run`` and the tests say which mode they want.
"""

import os

from einstein import create_app

os.environ.setdefault("EINSTEIN_ENV", "production")
app = create_app()
