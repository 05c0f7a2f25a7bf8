"""The e-mail outbox and reminders, sent by Celery workers."""
