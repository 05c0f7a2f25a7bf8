"""Pages for the people who run einstein that look across the areas: the outbox and the audit trail."""
