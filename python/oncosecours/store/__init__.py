"""The system of record: one SQLite file (WAL, foreign keys), migrations, the audit chain."""
