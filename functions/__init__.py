"""Cloud Function entry points: thin modules that parse a request and call one service in shared/."""
