"""Caption suggestions: what a video is about, platform text limits, the suggestion service."""
