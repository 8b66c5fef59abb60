"""The local stack: every part of production, running on this machine (`make run`)."""
