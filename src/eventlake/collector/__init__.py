"""The HTTP collector (contract §8): app.py (ASGI), spool.py (durability), flusher.py (landing)."""
