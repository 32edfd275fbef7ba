"""Persistent state of the service: one SQLite file under ``$ROSTRO_HOME`` by default, or a
PostgreSQL database by URL for several server processes.

``db`` opens the database (one serialized transaction per write) and applies ``migrations``;
``models`` declares the tables; ``resources`` (resources and their keys), ``usage`` (tier
limits and call counters) and ``faces`` (the faceId cache) are the repositories. Functions take
a SQLAlchemy ``Connection`` inside ``Database.transaction()`` so a caller can group several
steps (authenticate, then count the call) into one transaction.
"""
