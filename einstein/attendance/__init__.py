"""Attendance, course completion and reports."""
