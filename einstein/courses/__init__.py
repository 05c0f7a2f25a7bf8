"""The catalogue: courses, activities and their sessions."""
