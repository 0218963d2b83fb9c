"""The Python side of the Excel self-test (``addin/OncoSecoursAutoTest.bas``).

The VBA module saves a scratch copy of the workbook, opens it and, in the copy, for each step of
:data:`STEPS`: ``prepare(n, tag)`` (typed inputs and the selection, as a user would), then the
ribbon button itself (``RunPython`` → ``oncosecours.excel.ribbon.run``, the real click path), then
``check(n, tag)`` (sheets read back). ``finish()`` writes ``autotest-excel.json`` beside the copy;
``oncosecours qualification run`` reads it into the report. The copy works on its own scratch
store with its own team (``PIN``): never the unit's register. Each call is a fresh process, so
the state between calls lives in ``autotest-etat.json`` beside the copy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

PIN = "2468"
"""PIN of the scratch team of the self-test (the copy's own store, deleted with it)."""
STORE = "autotest.sqlite"
STATE = "autotest-etat.json"
RESULTS = "autotest-excel.json"
BACKUP = "sauvegarde-autotest"
IPP = "Q0000777"
TEAM = (
    ("DR1", "Dr Autotest", "prescripteur"),
    ("PH1", "Pharmacien Autotest", "pharmacien"),
    ("PH2", "Pharmacien Deux Autotest", "pharmacien"),
    ("PR1", "Préparateur Autotest", "préparateur"),
    ("PR2", "Préparateur Deux Autotest", "préparateur"),
    ("IDE1", "Infirmier Autotest", "infirmier"),
)

STEPS: tuple[tuple[str, str], ...] = (
    ("actualiser", "PH1"),
    ("nouveau_patient", "DR1"),
    ("inclure", "DR1"),
    ("calculer", "DR1"),
    ("enregistrer", "DR1"),
    ("refuser", "PH1"),
    ("enregistrer", "DR1"),
    ("valider", "PH1"),
    ("feu_vert", "DR1"),
    ("preparer", "PR1"),
    ("preparer", "PR1"),
    ("jeter_reliquat", "PR1"),
    ("fiches", "PR1"),
    ("etiquettes", "PR1"),
    ("controler", "PR2"),
    ("liberer", "PH2"),
    ("dispenser", "PR1"),
    ("rapprochement", "PH1"),
    ("justifier_rupture", "PH1"),
    ("administrer", "IDE1"),
    ("plan_de_soins", "IDE1"),
    ("note", "IDE1"),
    ("journal", "IDE1"),
    ("verifier_integrite", "IDE1"),
    ("facturation", "PH1"),
    ("reprise_chimio", "PH1"),
    ("pointer_reprise", "PH1"),
    ("archiver", "PH1"),
    ("clore_crise", "PH1"),
)
"""The order of the circuit, every ribbon button but « Qualifier ce poste » itself; the VBA
module's ETAPES constant lists the same tags (tested). The crisis exit comes last, closing the
copy's scratch register (never the unit's)."""

# --- the workbook and the state between calls -------------------------------------------------


def _book():
    from oncosecours.excel.xlbook import caller

    return caller()


def _layout():
    from oncosecours.excel.layout import load_layout

    return load_layout()


def _state(book) -> dict[str, Any]:
    path = book.folder / STATE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"resultats": []}


def _save(book, state: dict[str, Any]) -> None:
    (book.folder / STATE).write_text(json.dumps(state, ensure_ascii=False, indent=1), "utf-8")


def _form(book, sheet: str, **values: Any) -> None:
    book.write_fields(_layout().sheet(sheet), values)


def _table(book, sheet: str) -> list[dict[str, Any]]:
    return book.read_table(_layout().sheet(sheet))


def _put(book, sheet: str, row: dict, key: str, value: Any) -> None:
    book.write_cell(_layout().sheet(sheet), row["_row"], key, value)


def _select(book, sheet: str, rows: list[dict]) -> None:
    book.select_rows(_layout().sheet(sheet), [r["_row"] for r in rows])


def _listed(book, name: str) -> list[str]:
    values = book.book.names[name].refers_to_range.value
    return [v for v in (values if isinstance(values, list) else [values]) if v]


def _last_action(book) -> str:
    return str(book.read_fields(_layout().sheet("Accueil"), ["derniere_action"]).get(
        "derniere_action") or "")  # fmt: skip


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time())


# --- start: the scratch store beside the copy -------------------------------------------------


def start() -> str:
    """Create the copy's scratch store, team and synthetic backup; point the copy at them."""
    from oncosecours.refresh import synth
    from oncosecours.services.users import bootstrap_admin, create_user
    from oncosecours.store.db import connect_file

    book = _book()
    folder = book.folder
    for name in (STORE, STATE, RESULTS):
        (folder / name).unlink(missing_ok=True)
    _scratch_settings(folder / "etablissement.toml")  # before the first click of the copy
    conn = connect_file(folder / STORE)
    try:
        admin = bootstrap_admin(conn, "ADM", "Administrateur Autotest", PIN)
        for initials, name, role in TEAM:
            create_user(conn, admin, initials, name, role, PIN)
    finally:
        conn.close()
    backup = folder / BACKUP
    if not backup.exists():
        synth.generate(backup, "small", seed=2026, backup_date=date.today() - timedelta(days=1))
    _form(book, "Paramètres", base=STORE, sauvegardes=BACKUP)
    _save(book, {"debut": datetime.now().isoformat(timespec="seconds"), "resultats": []})
    return f"autotest prêt : {len(STEPS)} étapes"


def _scratch_settings(settings: Path) -> None:
    """The copied settings send the second copy to a scratch folder, never the unit's medium,
    and keep the register on the copy's scratch file, never the unit's PostgreSQL server."""
    if not settings.is_file():
        return
    text = settings.read_text(encoding="utf-8")
    text = _set_key(text, "copie_secours", "dossier", '"copie-autotest"')
    text = _set_key(text, "base", "moteur", '"sqlite"')
    settings.write_text(text, encoding="utf-8")


def _set_key(text: str, section: str, key: str, value: str) -> str:
    """``key = value`` in ``[section]`` of a TOML text (replacing the key, adding either)."""
    import re

    line = f"{key} = {value}"
    found = re.search(rf"(?m)^\[{re.escape(section)}\][^\n]*\n", text)
    if found is None:
        return text.rstrip("\n") + f"\n\n[{section}]\n{line}\n"
    end = re.search(r"(?m)^\[", text[found.end() :])
    stop = found.end() + (end.start() if end else len(text) - found.end())
    body = re.sub(rf"(?m)^{re.escape(key)}\s*=.*\n?", "", text[found.end() : stop])
    return text[: found.end()] + line + "\n" + body + text[stop:]


# --- per step: inputs, then the check -----------------------------------------------------------


def _prep_inputs(book, tag: str, n: int) -> None:
    today = date.today()
    if tag == "nouveau_patient":
        _form(book, "Patients", ipp=IPP, nom_naissance="Autotest", prenom="Excel",
              date_naissance=datetime(1968, 11, 23), sexe="F", service="Qualification",
              poids=63, taille=164, creatinine=71, date_mesures=_midnight(today))  # fmt: skip
    elif tag == "inclure":
        choice = next(p for p in _listed(book, "L_Protocoles") if p.startswith("mFOLFOX6"))
        _form(book, "Patients", protocole=choice, debut=_midnight(today))
        _select(book, "Patients", [r for r in _table(book, "Patients") if r["ipp"] == IPP])
    elif tag == "calculer":
        cure = next(c for c in _listed(book, "L_Cures") if "AUTOTEST" in c)
        _form(book, "Prescription", cure=cure, poids=63, taille=164, creatinine=71)
    elif tag in ("refuser", "valider"):
        rows = [r for r in _table(book, "Validation") if r["etat"] == "prescrite"]
        for row in rows:
            _put(book, "Validation", row, "commentaire" if tag == "refuser" else "justification",
                 "Autotest de qualification")  # fmt: skip
        _select(book, "Validation", rows)
    elif tag == "feu_vert":
        _select(book, "Feu vert", [r for r in _table(book, "Feu vert") if "AUTOTEST" in
                                   str(r["patient"]).upper()])  # fmt: skip
    elif tag == "preparer":
        rows = _table(book, "Fabrication")
        for index, row in enumerate(rows):
            if row.get("a_tracer"):
                needed = [item.strip() for item in str(row["a_tracer"]).split(";")]
                _put(
                    book,
                    "Fabrication",
                    row,
                    "lots",
                    " ; ".join(
                        f"{item}:AT{index}{k}:12/{today.year + 2}" for k, item in enumerate(needed)
                    ),
                )
        _select(book, "Fabrication", _table(book, "Fabrication"))
    elif tag in ("fiches", "etiquettes"):
        _select(book, "Fabrication", _table(book, "Fabrication"))
    elif tag == "controler":
        rows = _table(book, "Libération")
        for row in rows:
            _put(book, "Libération", row, "poids_mesure", row["poids_cible"])
            _put(book, "Libération", row, "controle_visuel", "Oui")
            _put(book, "Libération", row, "double_controle", "PH1")
        _select(book, "Libération", rows)
    elif tag == "liberer":
        _select(book, "Libération", _table(book, "Libération"))
    elif tag == "dispenser":
        rows = _table(book, "Dispensation")
        for row in rows:
            _put(book, "Dispensation", row, "recu_par", "IDE de l'autotest")
        _select(book, "Dispensation", rows)
    elif tag == "administrer":
        given = {r["ordonnancier"]: r["dispense_le"] for r in _table(book, "Dispensation")}
        rows = _table(book, "Administration")
        now = datetime.now().replace(microsecond=0)
        for row in rows:
            start = given.get(row["ordonnancier"])
            _put(book, "Administration", row, "debut", start if isinstance(start, datetime)
                 else now)  # fmt: skip
            _put(book, "Administration", row, "fin", now)
        _select(book, "Administration", rows)
    elif tag == "plan_de_soins":
        _select(book, "Administration", _table(book, "Administration")[:1])
    elif tag == "note":
        _form(book, "Notes", patient=IPP, texte="Note de l'autotest de qualification")
    elif tag == "jeter_reliquat":
        rows = _table(book, "Stock")[:1]
        for row in rows:
            _put(book, "Stock", row, "motif", "Autotest de qualification")
        _select(book, "Stock", rows)
        state = _state(book)
        state["reliquat"] = rows[0]["reliquat"] if rows else None
        _save(book, state)
    elif tag == "justifier_rupture":
        rows = [r for r in _table(book, "Rapprochement") if not r.get("justification")][:1]
        for row in rows:
            _put(book, "Rapprochement", row, "justification", "Autotest de qualification")
        _select(book, "Rapprochement", rows)
    elif tag == "pointer_reprise":
        _select(book, "Reprise", _table(book, "Reprise"))
    elif tag == "clore_crise":
        _form(book, "Reprise", confirmation="CLORE")


CHECKS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "nouveau_patient": ("patient créé", lambda b: any(r["ipp"] == IPP for r in
                                                      _table(b, "Patients"))),
    "calculer": ("lignes calculées", lambda b: bool(_table(b, "Prescription"))),
    "valider": ("prescription validée", lambda b: any(r["etat"] == "validée" for r in
                                                      _table(b, "Validation"))),
    "feu_vert": ("feu vert donné", lambda b: any(r["etat"] == "feu vert" for r in
                                                 _table(b, "Feu vert"))),
    "controler": ("poches contrôlées", lambda b: {r["etat"] for r in _table(b, "Libération")}
                  == {"contrôlée"}),
    "liberer": ("poches libérées", lambda b: {r["etat"] for r in _table(b, "Libération")}
                == {"libérée"}),
    "administrer": ("lignes administrées", lambda b: {r["etat"] for r in
                                                      _table(b, "Administration")}
                    == {"administrée"}),
    "jeter_reliquat": ("reliquat jeté, retiré du stock", lambda b: _discarded(b)),
    "rapprochement": ("rupture « libérée non administrée » listée", lambda b: any(
        str(r["rupture"]).startswith("LIBEREE_NON_ADMINISTREE:") for r in
        _table(b, "Rapprochement"))),
    "justifier_rupture": ("rupture justifiée", lambda b: any(r.get("justifie_par") == "PH1"
                                                           for r in _table(b, "Rapprochement"))),
    "reprise_chimio": ("fichiers de reprise écrits", lambda b: _written(b, "reprise")),
    "pointer_reprise": ("reprise entièrement pointée", lambda b: bool(_table(b, "Reprise")) and {
        r["pointe"] for r in _table(b, "Reprise")} == {"Oui"}),
    "archiver": ("archive écrite", lambda b: _written(b, "archives")),
    "clore_crise": ("registre clos, toute écriture refusée (REGISTRE_CLOS)", lambda b: _closed(b)),
    "verifier_integrite": ("journal intègre", lambda b: str(b.read_fields(
        _layout().sheet("Journal"), ["integrite"]).get("integrite") or "").startswith(
        "Journal d'audit intègre")),
}  # fmt: skip


def _discarded(book) -> bool:
    """The leftover the step selected is gone from the Stock sheet (it was the first row)."""
    chosen = _state(book).get("reliquat")
    return bool(chosen) and chosen not in {r["reliquat"] for r in _table(book, "Stock")}


def _written(book, part: str) -> bool:
    """The Reprise sheet names a new, non-empty folder under ``sortie\\<part>`` of the copy."""
    shown = book.read_fields(_layout().sheet("Reprise"), ["dossier"]).get("dossier")
    folder = Path(str(shown or ""))
    root = book.folder / "sortie" / part
    return bool(shown) and folder.parent == root and folder.is_dir() and any(folder.iterdir())


def _closed(book) -> bool:
    """The sheet says CLOS, and the store itself refuses a write with rule REGISTRE_CLOS."""
    from oncosecours.domain.errors import OncoError
    from oncosecours.store.db import connect_file, refuse_if_closed

    shown = str(book.read_fields(_layout().sheet("Reprise"), ["cloture"]).get("cloture") or "")
    conn = connect_file(book.folder / STORE)
    try:
        refuse_if_closed(conn)  # what every write transaction asks first
    except OncoError as refused:
        return shown.startswith("CLOS") and refused.rule == "REGISTRE_CLOS"
    finally:
        conn.close()
    return False


def _step(n: int, tag: str) -> tuple[str, str]:
    if not 1 <= n <= len(STEPS) or STEPS[n - 1][0] != tag:
        from oncosecours.domain.errors import OncoError

        raise OncoError(f"Étape {n} « {tag} » inconnue de l'autotest", field="autotest")
    return STEPS[n - 1]


def prepare(n: int, tag: str) -> None:
    """Type the inputs of step ``n`` and log its user in (the VBA then clicks the button)."""
    book = _book()
    _tag, initials = _step(n, tag)
    _form(book, "Accueil", utilisateur=initials, derniere_action=None)
    _prep_inputs(book, tag, n)


def check(n: int, tag: str) -> bool:
    """Read the sheets back after the click of step ``n``; record pass or fail."""
    book = _book()
    _step(n, tag)
    state = _state(book)
    last = _last_action(book)
    changed = bool(last)
    refused = " — refusé : " in last
    expected, test = CHECKS.get(tag, ("action confirmée", lambda _b: True))
    try:
        specific = bool(test(book))
    except Exception as exc:  # a sheet that cannot be read back is a failure of the step
        specific, last = False, f"{last} ; relecture impossible : {exc!r}"
    ok = changed and not refused and specific
    observed = last if changed else "aucune confirmation (action non exécutée ?)"
    if tag == "jeter_reliquat" and not state.get("reliquat"):
        record(book, state, n, tag, None, expected, "aucun reliquat en stock : ce poste ne "
               "garde pas de reliquats ([stock] stabilite_reliquats_h vide)")  # fmt: skip
        return True
    record(book, state, n, tag, ok, expected, observed)
    return ok


def record(
    book, state: dict, n: int, tag: str, ok: bool | None, expected: str, observed: str
) -> None:
    """``ok`` None: the step does not apply to this PC's settings (reported as such)."""
    verdict = "non_applicable" if ok is None else "conforme" if ok else "non_conforme"
    state["resultats"] = [r for r in state["resultats"] if r["etape"] != n]
    state["resultats"].append({"etape": n, "bouton": tag, "resultat": verdict,
                               "attendu": expected, "observe": observed})  # fmt: skip
    _save(book, state)


def failed(n: int, tag: str, message: str) -> None:
    """Called by the VBA when the click itself failed (RunPython error, e.g. ASR error 70)."""
    book = _book()
    state = _state(book)
    record(book, state, n, tag, False, "action exécutée par Excel", f"échec : {message}")


def finish(excel_version: str = "") -> str:
    """Write ``autotest-excel.json`` beside the copy; return a one-line summary."""
    from oncosecours.qualification.records import pc_name

    book = _book()
    state = _state(book)
    results = sorted(state["resultats"], key=lambda r: r["etape"])
    data = {
        "format": 1,
        "poste": pc_name(),
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "excel": excel_version,
        "classeur": str(book.path),
        "etapes": [{"etape": i, "bouton": t} for i, (t, _u) in enumerate(STEPS, start=1)],
        "resultats": results,
    }
    (book.folder / RESULTS).write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
    good = sum(r["resultat"] != "non_conforme" for r in results)
    return f"autotest Excel : {good}/{len(STEPS)} étapes conformes ou non applicables"
