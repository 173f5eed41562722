"""The trading journal: round trips from fills, trade records, analytics, tags, entries, images.

Pure functions over attrs values live in :mod:`.roundtrips` and :mod:`.formulas`; everything
that touches the database takes a psycopg connection (one transaction, run through
:meth:`testudo.db.Database.run`) and keeps its SQL next to the code that uses it.
"""
