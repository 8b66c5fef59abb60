"""A user's account as a whole: export everything we keep, and finish a deleted account."""
