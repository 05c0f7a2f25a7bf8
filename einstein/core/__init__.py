"""Pages that belong to no one area: health, language choice, privacy."""
