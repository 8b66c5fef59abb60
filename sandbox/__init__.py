"""Platform sandbox: local HTTP servers that behave like each platform's real API."""
