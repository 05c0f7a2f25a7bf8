"""Forms of the outbox page."""

from __future__ import annotations

from einstein.forms import BaseForm


class RetryForm(BaseForm):
    """Queue a failed e-mail again (the button)."""
