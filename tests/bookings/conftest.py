"""Booking tests use the ``activity`` and ``course`` fixtures of tests/conftest.py."""
