"""Accounts, roles, sign-in and privacy."""
