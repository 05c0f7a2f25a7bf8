"""WSGI entry point for gunicorn: ``gunicorn einstein.wsgi:app``."""

from einstein import create_app

app = create_app()
