"""Bookings, waiting lists and booking at the desk."""
