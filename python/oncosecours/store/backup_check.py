"""Checking a copy of the store: it opens, ``PRAGMA integrity_check`` passes, its audit chain is
intact, its checksum (snapshots) matches, and it holds everything the main store held at its time:
its audit chain is a prefix of the main store's (same hash at its last event).

Used by ``oncosecours backup verify`` and before any restore. Opens every file read-only.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from oncosecours.store import audit
from oncosecours.store.ledger_verify import verify_rows
from oncosecours.store.replica import (
    Target,
    checksum_path,
    open_readonly,
    recover,
    sha256_file,
    target_for,
)

KIND_FR = {"base": "base principale", "copie": "copie de secours", "instantane": "instantané"}


@dataclass
class CopyCheck:
    """The verdict on one file; ``problems`` are French sentences (empty when ``ok``)."""

    path: str
    kind: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    seq: int | None = None
    hash: str | None = None
    last_event_at: str | None = None
    schema: int | None = None
    size: int | None = None
    checksum: str | None = None  # "ok", "absente", "différente", None = not asked
    relation: str | None = (
        None  # vs the reference: "identique", "préfixe", "en avance", "divergente"
    )
    behind: int | None = None  # events of the reference missing from this copy

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """One French line for the CLI."""
        label = KIND_FR.get(self.kind, self.kind)
        if not self.ok:
            return f"ÉCHEC  {label} {self.path} : " + " ; ".join(self.problems)
        when = (
            f", dernier le {self.last_event_at[:16].replace('T', ' ')}"
            if self.last_event_at
            else ""
        )
        extra = ""
        if self.relation == "préfixe" and self.behind:
            extra = f" (état antérieur : {self.behind} événement(s) d'audit plus récent(s) dans la base)"
        elif self.relation == "identique":
            extra = " (identique à la base)"
        sha = ", somme de contrôle ok" if self.checksum == "ok" else ""
        events = f"{self.seq} événement{'s' if self.seq != 1 else ''}"
        return f"OK     {label} {self.path} : {events}{when}{sha}{extra}"


def inspect(path: str | os.PathLike, kind: str = "copie", *, checksum: bool = False) -> CopyCheck:
    """Open ``path`` read-only and check it on its own (no reference)."""
    path = Path(path)
    check = CopyCheck(str(path), kind)
    if not path.is_file():
        check.fail("fichier introuvable")
        return check
    check.size = path.stat().st_size
    if checksum:
        _check_checksum(path, check)
    try:
        recover(path)  # a copy killed half-way: SQLite rolls it back to its previous state
        conn = open_readonly(path)
    except sqlite3.Error as exc:
        check.fail(f"ne s'ouvre pas ({exc})")
        return check
    try:
        _check_database(conn, check)
    except sqlite3.Error as exc:
        check.fail(f"base illisible ({exc})")
    finally:
        conn.close()
    return check


def _check_checksum(path: Path, check: CopyCheck) -> None:
    sidecar = checksum_path(path)
    if not sidecar.is_file():
        check.checksum = "absente"
        check.fail(f"somme de contrôle absente ({sidecar.name})")
        return
    try:
        expected = sidecar.read_text(encoding="utf-8").split()[0].lower()
    except (OSError, IndexError):
        check.checksum = "absente"
        check.fail(f"somme de contrôle illisible ({sidecar.name})")
        return
    if sha256_file(path) != expected:
        check.checksum = "différente"
        check.fail("somme de contrôle SHA-256 différente : le fichier a été modifié ou abîmé")
    else:
        check.checksum = "ok"


def _check_database(conn: sqlite3.Connection, check: CopyCheck) -> None:
    from oncosecours.store.db import schema_version

    rows = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
    if rows != ["ok"]:
        check.fail("intégrité SQLite en défaut : " + " | ".join(rows[:3]))
        return
    check.schema = conn.execute("PRAGMA user_version").fetchone()[0]
    if check.schema > schema_version():
        check.fail(
            f"créée par une version plus récente d'OncoSecours (schéma {check.schema}, "
            f"ce programme connaît {schema_version()})"
        )
        return
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"audit_event", "audit_head", "users"} <= tables:
        check.fail("ce n'est pas une base OncoSecours (journal d'audit absent)")
        return
    report = audit.verify(conn)
    if not report.ok:
        check.fail(f"journal d'audit altéré : {report.problem}")
        return
    rows = verify_rows(conn)
    if not rows.ok:
        check.fail(f"tables modifiées hors d'OncoSecours : {rows.text()}")
        return
    head = conn.execute("SELECT last_seq, last_hash FROM audit_head WHERE id = 1").fetchone()
    check.seq, check.hash = int(head[0]), str(head[1])
    if check.seq:
        check.last_event_at = conn.execute(
            "SELECT at FROM audit_event WHERE seq = ?", (check.seq,)
        ).fetchone()[0]


def compare(
    check: CopyCheck,
    reference: sqlite3.Connection,
    label: str = "la base",
    written_at: datetime | None = None,
) -> None:
    """Does ``check``'s copy hold everything ``reference`` held at the copy's time?

    The copy's last event must be the reference's event of the same number (same hash): then
    every earlier event, chained by hash, is the same too. With ``written_at`` (when the copy
    was written), an event of the reference older than the copy but missing from it fails too."""
    if check.seq is None:
        return
    ref_seq = reference.execute("SELECT last_seq FROM audit_head WHERE id = 1").fetchone()[0]
    if check.seq == 0:
        check.relation = "identique" if ref_seq == 0 else "préfixe"
        check.behind = ref_seq
        return
    row = reference.execute("SELECT hash FROM audit_event WHERE seq = ?", (check.seq,)).fetchone()
    if row is None:
        check.relation = "en avance"
        check.fail(
            f"contient {check.seq - ref_seq} événement(s) d'audit absent(s) de {label} "
            f"(copie : {check.seq} événements, {label} : {ref_seq}) — {label} a perdu des "
            "actions : restaurer depuis cette copie ?"
        )
    elif row[0] != check.hash:
        check.relation = "divergente"
        check.fail(
            f"divergente : son événement n° {check.seq} diffère de celui de {label} "
            "(ce n'est pas une copie de cette base, ou la base a été restaurée depuis)"
        )
    else:
        check.relation = "identique" if check.seq == ref_seq else "préfixe"
        check.behind = ref_seq - check.seq
        if check.behind and written_at is not None:
            _check_not_missing_older(check, reference, written_at, label)


def _check_not_missing_older(
    check: CopyCheck, reference: sqlite3.Connection, written_at: datetime, label: str
) -> None:
    """The first event the copy lacks must be later than the copy itself (2 s of slack for
    the seconds of the timestamps): otherwise an action done before the copy is missing."""
    row = reference.execute(
        "SELECT seq, at FROM audit_event WHERE seq = ?", (check.seq + 1,)
    ).fetchone()
    try:
        first_missing = datetime.fromisoformat(row[1])
    except (TypeError, ValueError):
        return
    if first_missing.tzinfo is None:
        first_missing = first_missing.astimezone()
    if first_missing < written_at - timedelta(seconds=2):
        check.fail(
            f"incomplète : l'action n° {row[0]} de {label} ({row[1]}) date d'avant la copie "
            f"({written_at.isoformat(timespec='seconds')}) mais n'y figure pas"
        )


def _mtime(path: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime).astimezone()
    except OSError:
        return None


def verify_all(settings: Any = None, store: str | os.PathLike | None = None) -> dict[str, Any]:
    """Check the main store, its second copy and every snapshot.

    The copies are compared with the main store; when the main store does not open, the snapshots
    are compared with the second copy instead. ``ok`` is true only if every file passes and the
    second copy is up to date."""
    from oncosecours.store.db import resolve

    store_path = resolve(store).resolve()
    base = inspect(store_path, "base")
    target: Target | None = target_for(settings, store_path)
    result: dict[str, Any] = {"base": base, "copie": None, "instantanes": [], "remarques": []}
    if target is None:
        result["remarques"].append(
            "Aucune copie de secours configurée ([copie_secours] dossier est vide)."
        )
        result["ok"] = False
        return result
    copy = inspect(target.replica, "copie")
    snaps = [inspect(p, "instantane", checksum=True) for _d, p in target.snapshot_files()]
    if not snaps:
        result["remarques"].append(f"Aucun instantané dans « {target.snapshots} ».")
    reference_path = store_path if base.ok else (target.replica if copy.ok else None)
    if reference_path is not None:
        ref = open_readonly(reference_path)
        try:
            if base.ok:
                compare(copy, ref)
            for snap in snaps:
                label = "la base" if base.ok else "la copie de secours"
                compare(snap, ref, label, written_at=_mtime(snap.path))
        finally:
            ref.close()
    if not base.ok:
        result["remarques"].append(
            "La base principale ne passe pas les vérifications : restaurer avec "
            f"« oncosecours backup restore --from {target.replica} »"
            + ("" if copy.ok else " ou depuis le dernier instantané valide")
        )
    if copy.ok and copy.behind:
        copy.fail(
            f"en retard de {copy.behind} événement(s) d'audit sur la base "
            "(« oncosecours backup now » pour rattraper)"
        )
    result["copie"] = copy
    result["instantanes"] = snaps
    result["ok"] = base.ok and copy.ok and all(s.ok for s in snaps)
    return result
