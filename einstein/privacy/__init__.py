"""Privacy: a person's answer about themselves, their copy of their data, and erasure."""
