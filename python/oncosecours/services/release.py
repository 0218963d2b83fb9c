"""Control of the finished bag, then the pharmacist's release (or refusal).

Control (préparateur or pharmacien): measured net weight against the window printed on the fiche
(flagged, never refused, when out of tolerance), visual check, optional double check by a second
person. Release: a pharmacist only, never the one who prepared the bag; a failed visual check
cannot be released; an out-of-tolerance weight needs a written justification; an expired bag is
refused. Both are final (no update of the rows).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import fr_num
from oncosecours.domain.production import fr_datetime, fr_signed, gravimetric_check, iso
from oncosecours.services.core import Actor, action, optional_text, required_reason
from oncosecours.services.go_ahead import now_or
from oncosecours.services.preparation import describe, require_live_cure, require_state, set_state
from oncosecours.services.preparation_queries import preparation_sheet
from oncosecours.store import preparations as store
from oncosecours.store.preparations import resolve_preparation
from oncosecours.store.users import user_by_initials

CONTROL_ROLES = ("préparateur", "pharmacien")
RELEASE_ROLES = ("pharmacien",)


def _double_checker(conn: sqlite3.Connection, initials: str | None, prep: dict, actor: Actor):
    if not initials:
        return None
    row = user_by_initials(conn, initials.strip())
    if row is None or not row["active"]:
        raise OncoError(
            f"Double contrôle : utilisateur « {initials} » inconnu ou désactivé",
            field="double contrôle",
        )
    if row["role"] not in CONTROL_ROLES:
        raise OncoError(
            f"Double contrôle : {row['initials']} ({row['role']}) n'est ni préparateur ni "
            "pharmacien",
            field="double contrôle",
            rule="DOUBLE_CONTROLE",
        )
    if row["id"] in (prep["prepared_by"], actor.id):
        raise OncoError(
            f"Double contrôle : {row['initials']} a préparé ou contrôle déjà cette poche ; le "
            "double contrôle se fait par une seconde personne",
            field="double contrôle",
            rule="DOUBLE_CONTROLE",
        )
    return row


def control_preparation(
    conn: sqlite3.Connection,
    actor: Actor,
    preparation: object,
    measured_weight_g: float,
    *,
    visual_ok: bool,
    double_checker: str | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record the control of a prepared bag; the lots must be complete."""
    if not isinstance(visual_ok, bool):
        raise OncoError("Le contrôle visuel doit être conforme ou non conforme", field="visuel")
    comment = optional_text(comment)
    with action(conn, actor, "contrôler", CONTROL_ROLES, "contrôler une préparation") as act:
        at = iso(now_or(now))
        prep = resolve_preparation(conn, preparation)
        require_state(prep, "controlled")
        require_live_cure(conn, prep)
        sheet = preparation_sheet(conn, prep["id"])
        if not sheet["lots_complete"]:
            raise OncoError(
                f"{describe(prep)} : lots incomplets (chaque flacon et le diluant) : "
                "les saisir avant le contrôle",
                rule="LOTS_MANQUANTS",
                hint="oncosecours prepare lots ...",
            )
        result = gravimetric_check(
            measured_weight_g, prep["target_weight_g"], prep["weight_min_g"], prep["weight_max_g"]
        )
        checker = _double_checker(conn, double_checker, prep, actor)
        if not visual_ok and not comment:
            raise OncoError(
                "Un contrôle visuel non conforme doit être décrit (commentaire)",
                field="commentaire",
            )
        store.insert_control(
            conn,
            {
                "preparation_id": prep["id"],
                "measured_weight_g": result.measured_g,
                "target_weight_g": result.target_g,
                "weight_min_g": result.min_g,
                "weight_max_g": result.max_g,
                "deviation_pct": result.deviation_pct,
                "in_tolerance": int(result.within),
                "visual_ok": int(visual_ok),
                "double_checker_id": checker["id"] if checker else None,
                "double_checker_initials": checker["initials"] if checker else None,
                "comment": comment,
                "controlled_by": actor.id,
                "controlled_by_initials": actor.initials,
                "controlled_at": at,
            },
        )
        set_state(conn, prep, "controlled", at)
        flags = []
        if not result.within:
            flags.append("HORS_TOLERANCE")
        if not visual_ok:
            flags.append("VISUEL_NON_CONFORME")
        if checker is None:
            flags.append("SANS_DOUBLE_CONTROLE")
        act.record(
            "préparation",
            prep["id"],
            {"état": prep["state"]},
            {
                "état": "controlled",
                "numéro": prep["ord_number"],
                "gravimétrie": result.as_dict(),
                "visuel_conforme": visual_ok,
                "double_contrôle": checker["initials"] if checker else None,
                "alertes": flags,
                "commentaire": comment,
            },
        )
    return {
        "preparation_id": prep["id"],
        "number": prep["ord_number"],
        "gravimetry": result.as_dict(),
        "visual_ok": visual_ok,
        "double_checker": checker["initials"] if checker else None,
        "flags": flags,
        "controlled_by": actor.initials,
        "controlled_at": at,
    }


def _control(conn: sqlite3.Connection, prep: dict) -> dict:
    return store.control_of(conn, prep["id"])


def _decision(prep: dict, actor: Actor, at: str, decision: str, **text: str | None) -> dict:
    """The ``preparation_releases`` row of a pharmacist's decision (justification or comment)."""
    return {
        "preparation_id": prep["id"],
        "decision": decision,
        **text,
        "pharmacist_id": actor.id,
        "pharmacist_initials": actor.initials,
        "pharmacist_name": actor.name,
        "decided_at": at,
    }


def release_preparation(
    conn: sqlite3.Connection,
    actor: Actor,
    preparation: object,
    *,
    justification: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A pharmacist (not the preparer) releases a controlled bag."""
    justification = optional_text(justification)
    with action(conn, actor, "libérer", RELEASE_ROLES, "libérer une préparation") as act:
        moment = now_or(now)
        at = iso(moment)
        prep = resolve_preparation(conn, preparation)
        require_state(prep, "released")
        require_live_cure(conn, prep)
        if prep["prepared_by"] == actor.id:
            raise OncoError(
                f"{describe(prep)} a été préparée par {actor.initials} : la libération est faite "
                "par un autre pharmacien que le préparateur",
                rule="LIBERATION_PREPARATEUR",
            )
        control = _control(conn, prep)
        if not control["visual_ok"]:
            raise OncoError(
                f"{describe(prep)} : contrôle visuel non conforme "
                f"({control['comment']}) : elle ne peut pas être libérée, la refuser",
                rule="CONTROLE_VISUEL",
            )
        if not control["in_tolerance"] and not justification:
            raise OncoError(
                f"{describe(prep)} : poids hors tolérance ({fr_num(control['measured_weight_g'])} g "
                f"pour {fr_num(control['target_weight_g'], 1)} g, écart "
                f"{fr_signed(control['deviation_pct'])} %, accepté de {fr_num(control['weight_min_g'], 1)} à "
                f"{fr_num(control['weight_max_g'], 1)} g) : une justification écrite est obligatoire "
                "pour la libérer",
                rule="GRAVIMETRIE_HORS_TOLERANCE",
                field="justification",
            )
        use_by = datetime.fromisoformat(prep["use_by"])
        if moment > use_by:
            raise OncoError(
                f"{describe(prep)} a dépassé sa date limite d'utilisation "
                f"({fr_datetime(use_by)}) : elle ne peut pas être libérée",
                rule="POCHE_PERIMEE",
            )
        store.insert_release(
            conn, _decision(prep, actor, at, "released", justification=justification)
        )
        set_state(conn, prep, "released", at)
        act.record(
            "préparation",
            prep["id"],
            {"état": prep["state"]},
            {
                "état": "released",
                "numéro": prep["ord_number"],
                "hors_tolérance": not control["in_tolerance"],
                "justification": justification,
            },
        )
    return {
        "preparation_id": prep["id"],
        "number": prep["ord_number"],
        "decision": "released",
        "justification": justification,
        "pharmacist": actor.initials,
        "decided_at": at,
    }


def reject_preparation(
    conn: sqlite3.Connection,
    actor: Actor,
    preparation: object,
    reason: str,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A pharmacist refuses a controlled bag (reason mandatory); the line may be prepared again."""
    reason = required_reason(reason, "du refus")
    with action(
        conn, actor, "refuser_préparation", RELEASE_ROLES, "refuser une préparation"
    ) as act:
        at = iso(now_or(now))
        prep = resolve_preparation(conn, preparation)
        require_state(prep, "rejected")
        store.insert_release(conn, _decision(prep, actor, at, "rejected", comment=reason))
        set_state(conn, prep, "rejected", at)
        act.record(
            "préparation",
            prep["id"],
            {"état": prep["state"]},
            {"état": "rejected", "numéro": prep["ord_number"], "motif": reason},
        )
    return {
        "preparation_id": prep["id"],
        "number": prep["ord_number"],
        "decision": "rejected",
        "reason": reason,
        "pharmacist": actor.initials,
        "decided_at": at,
    }
