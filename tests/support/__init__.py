"""Helpers for the test run: real servers, clients and data."""
