"""Open data: the public, read-only programme API, calendar feeds per place and theme, the
schema.org description of offer pages, and the programme widget for partners' websites.

Nothing here is personal: only what the public offer pages already show, and counts.
"""
