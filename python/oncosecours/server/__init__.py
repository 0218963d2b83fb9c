"""The unit's own PostgreSQL server (``oncosecours server init/start/stop/status``).

Binaries come from the kit or the system (never built here); the cluster lives in one folder
on the server PC, listens on the unit's isolated network and has one role and one database.
"""
