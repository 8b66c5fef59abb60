"""shortpub: the library every Cloud Function imports."""
