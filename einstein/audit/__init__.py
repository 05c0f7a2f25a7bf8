"""The audit trail: who changed other people's data, when, and what."""
