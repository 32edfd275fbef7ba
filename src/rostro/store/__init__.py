"""Persistent state of the service: one SQLite file under ``$ROSTRO_HOME`` by default, or a
PostgreSQL database by URL for several server processes.

``db`` opens the database (one serialized transaction per write) and applies ``migrations``
(Alembic revisions with frozen table definitions: the revisions build the tables, the ORM
classes serve queries); ``tables`` declares the base tables (``groups``, ``training``,
``history`` and ``studio_accounts`` declare their own beside their repositories);
``resources`` (resources and their keys), ``usage`` (tier limits and call counters) and
``face_cache`` (the faceId cache) are repositories. Functions take a SQLAlchemy
``Connection`` inside ``Database.transaction()`` so a caller can group several steps
(authenticate, then count the call) into one transaction.
"""
