"""`make bench`: the load benchmark of the token endpoint and the scoped API (entry point: run.py)."""
