"""One function per user action: role check -> domain -> one store transaction -> audit event.

Every shell (CLI, ribbon, demo, scripts) acts through this package, so this is where the live
second copy of the store (``[copie_secours]``, :mod:`oncosecours.store.replica`) is hooked to
every committed write, once per process.
"""

from oncosecours.store import db, replica

if replica.after_commit not in db.AFTER_COMMIT:
    db.AFTER_COMMIT.append(replica.after_commit)
