"""The crisis day, played end to end through the services (the functions the CLI and ribbon call).

Every change goes through ``oncosecours.services`` (one transaction and one audit event per
action, as for a user); the demo only reads the store to choose what to do next. A refusal that
the story expects (homonym, unjustified alert, out-of-tolerance bag) is caught and reported;
any other refusal stops the demo with its French message.

The day is today, on a simulated clock (:class:`Clock`, 06:30 to 18:30): its time is passed
to the services as ``now``, and, for the services that take no ``now`` (patients, inclusion,
prescription, validation, notes, users, refresh), it is what ``oncosecours.clock`` returns while
the demo plays. Every record and every audit event of the
demo store therefore tells one consistent day: a fiche de fabrication never shows a validation
made hours after the preparation. The audit chain is verified as usual; the real time of the run
is in ``resume.json``.

The live second copy (``[copie_secours]``, after every commit) is paused while the simulated day
is played: its daily snapshot is dated by the real clock, and a copy taken at real time would be
judged against simulated event times. The copy and the day's snapshot are written once at the
end (as ``oncosecours backup now`` does), then verified like ``oncosecours backup verify``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time as clock_time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from oncosecours.demo import identities as ids
from oncosecours.demo.workspace import Paths, prepare_output, write_settings
from oncosecours.domain.errors import OncoError

SEED = 2026
ROLES_FR = {
    "prescripteur": ("prescripteur", "prescripteurs"),
    "pharmacien": ("pharmacien", "pharmaciens"),
    "préparateur": ("préparateur", "préparateurs"),
    "infirmier": ("infirmier", "infirmiers"),
    "administrateur": ("administrateur", "administrateurs"),
}
SCALE = "small"
DAY_END = time(19, 0)

Progress = Callable[[str], None]


def stderr_progress() -> Progress:
    """Progress lines on stderr, with the elapsed time."""
    started = clock_time.perf_counter()

    def show(message: str) -> None:
        elapsed = clock_time.perf_counter() - started
        print(f"[{elapsed:5.1f} s] {message}", file=sys.stderr, flush=True)

    return show


@dataclass
class Story:
    """What happened, for the summary (French texts) and ``resume.json`` (the facts)."""

    events: list[tuple[str, str]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def tell(self, step: str, text: str) -> None:
        self.events.append((step, text))


class Clock:
    """The simulated time of the day: it only moves forward."""

    def __init__(self, day: date, start: str = "06:30") -> None:
        self.day = day
        self.tz = datetime.now().astimezone().tzinfo
        self.current = self.at(start)

    def at(self, hhmm: str | time) -> datetime:
        moment = hhmm if isinstance(hhmm, time) else time.fromisoformat(hhmm)
        return datetime.combine(self.day, moment, tzinfo=self.tz)

    def set(self, when: str | datetime) -> datetime:
        """Move to ``when`` (``"HH:MM"`` today, or a datetime) unless already later."""
        moment = when if isinstance(when, datetime) else self.at(when)
        self.current = max(self.current, moment)
        return self.current

    def tick(self, minutes: int = 5) -> datetime:
        self.current += timedelta(minutes=minutes)
        return self.current

    def iso(self) -> str:
        return self.current.isoformat(timespec="seconds")


@contextmanager
def _simulated_clock(day_clock: Clock):
    """The application clock reads the demo's clock while the day is played."""
    from oncosecours import clock

    with clock.use(lambda: day_clock.current):
        yield


@contextmanager
def _copy_paused(settings):
    """No live second copy while the simulated day is played (see the module docstring)."""
    try:
        from oncosecours.store import replica
    except ImportError:  # a version without the second copy
        yield
        return
    from oncosecours.settings import Settings

    sections = settings.as_dict()
    sections["copie_secours"] = {**sections["copie_secours"], "dossier": ""}
    replica.use_settings(Settings(sections, None))
    try:
        yield
    finally:
        replica.use_settings(None)


@contextmanager
def _settings_env(path: Path):
    """Make every ``load_settings()`` of this process read the demo's settings file."""
    from oncosecours.settings import ENV_VAR

    before = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = before


@dataclass
class Result:
    paths: Paths
    story: Story
    seconds: float


def run_demo(
    out: str | Path = "demo-output",
    *,
    pdf: bool | None = None,
    today: date | None = None,
    progress: Progress | None = None,
) -> Result:
    """Play the whole demo into ``out`` (fresh); return where everything is and what happened."""
    started = clock_time.perf_counter()
    say = progress or (lambda _message: None)
    paths = prepare_output(out)
    settings_path = write_settings(paths, ids.LES_DEMO_CODE)
    with _settings_env(settings_path):
        from oncosecours.settings import load_settings

        day = CrisisDay(paths, load_settings(settings_path), today or date.today(), say)
        try:
            day.play(pdf=pdf)
        finally:
            day.close()
    seconds = clock_time.perf_counter() - started
    day.story.facts["duree_s"] = round(seconds, 2)
    from oncosecours.demo import summary

    summary.write(paths, day.story, seconds)
    return Result(paths, day.story, seconds)


class CrisisDay:
    """One crisis day on a fresh store: each method is one part of the story."""

    def __init__(self, paths: Paths, settings, today: date, progress: Progress) -> None:
        from oncosecours.store.db import connect

        self.paths = paths
        self.settings = settings
        self.today = today
        self.say = progress
        self.story = Story()
        self.clock = Clock(today)
        self.conn: sqlite3.Connection = connect(paths.store)
        self.team: dict[str, Any] = {}
        self.patients: dict[str, dict[str, Any]] = {}  # key -> patient row (+ plan)
        self.cures: dict[str, int] = {}
        self.prescriptions: dict[str, int] = {}
        self.preparations: list[dict[str, Any]] = []
        self.story.facts.update(
            {
                "date": today.isoformat(),
                "dossier": str(paths.root),
                "base": str(paths.store),
                "parametres": str(paths.settings),
            }
        )

    def close(self) -> None:
        self.conn.close()

    # -- orchestration ----------------------------------------------------------------------

    def play(self, *, pdf: bool | None) -> None:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("Sauvegarde Chimio synthétique", self.make_backup),
            ("Équipe", self.make_team),
            ("Actualisation des sauvegardes", self.refresh),
            ("Patients", self.admit_patients),
            ("Inclusions", self.include),
            ("Prescriptions", self.prescribe),
            ("Validation pharmaceutique", self.validate),
            ("Feu vert", self.go_ahead),
            ("Fabrication", self.prepare),
            ("Contrôle et libération", self.control_and_release),
            ("Dispensation", self.dispense),
            ("Administration", self.administer),
            ("Notes", self.notes_summary),
            ("Documents", lambda: self.documents(pdf)),
            ("Vérifications", self.verify),
            ("Classeur", self.workbook),  # after the second copy: Accueil shows its state
        ]
        total = len(steps)
        with _simulated_clock(self.clock), _copy_paused(self.settings):
            for number, (title, step) in enumerate(steps, start=1):
                self.say(f"{number}/{total} {title}…")
                begun = clock_time.perf_counter()
                step()
                self.story.timings[title] = round(clock_time.perf_counter() - begun, 2)

    # -- 1. the backup -------------------------------------------------------------------------

    def make_backup(self) -> None:
        from oncosecours.refresh import synth

        backup_date = self.today - timedelta(days=1)
        counts = synth.generate(
            self.paths.backup,
            SCALE,
            seed=SEED,
            backup_date=backup_date,
            progress=lambda m: self.say(m.strip()),
        )
        self.story.facts["sauvegarde_synthetique"] = {
            "dossier": str(self.paths.backup),
            "date": backup_date.isoformat(),
            "lignes": counts,
        }

    # -- 2. the team ---------------------------------------------------------------------------

    def make_team(self) -> None:
        from oncosecours.services.users import bootstrap_admin, create_user

        self.clock.set("06:30")
        admin = bootstrap_admin(
            self.conn, ids.ADMIN.initials, ids.ADMIN.name, ids.DEMO_PIN, demo=True
        )
        self.team[admin.initials] = admin
        for member in ids.TEAM:
            self.clock.tick(1)
            self.team[member.initials] = create_user(
                self.conn,
                admin,
                member.initials,
                member.name,
                member.role,
                ids.DEMO_PIN,
                demo=True,
            )
        self.story.facts["utilisateurs"] = [ids.ADMIN.initials] + [m.initials for m in ids.TEAM]
        groups: dict[str, list[str]] = {}
        for member in ids.TEAM:
            groups.setdefault(member.role, []).append(member.initials)
        listed = ", ".join(
            f"{' et '.join(v)} ({ROLES_FR[k][len(v) > 1]})" for k, v in groups.items()
        )
        self.story.tell("equipe", f"Équipe créée par {admin.initials} (administrateur) : {listed}.")

    # -- 3. refresh: the synthetic backup and the real HEGP extracts, one snapshot ------------

    def refresh(self) -> None:
        from oncosecours.refresh import synth
        from oncosecours.resources import data
        from oncosecours.services.refresh import refresh_snapshot

        # The real, public HEGP extracts (pseudonymised, MIT) are loaded as they are, through
        # the same queries, together with the synthetic backup: one snapshot, the synthetic keys
        # being far from Chimio's (see refresh/synth.py KEY_RANGES).
        hegp_dir = data("demo", "chimio-hegp")
        self.clock.set("06:45")
        result = refresh_snapshot(
            self.conn, self.team["PH1"], [self.paths.backup, hegp_dir], settings=self.settings,
            today=self.today,
        )  # fmt: skip
        synthetic, real = (folder["lignes"] for folder in result["dossiers"])
        self.story.facts["actualisation"] = {
            "lignes": result["tables"],
            "date_sauvegarde": result["backup_date"],
            "origine_date": result["backup_date_source"],
            "ancienne": result["stale"],
            "avertissements": len(result["warnings"]),
            "dossiers": result["dossiers"],
        }
        synthetic_date = self.story.facts["sauvegarde_synthetique"]["date"]
        self.story.tell(
            "actualisation",
            f"Sauvegarde Chimio synthétique du {_fr_day(synthetic_date)} générée, puis "
            f"rechargée par PH1 (« Actualiser ») avec les extraits réels de Chimio de l'HEGP "
            f"(publics, pseudonymisés), en un seul instantané : {_counts_fr(result['tables'])}, "
            f"dont HEGP {_counts_fr(real)}.",
        )
        self.story.tell(
            "hegp",
            f"L'instantané prend la date de la plus ancienne des deux sauvegardes, celle de "
            f"l'HEGP du {_fr_day(result['backup_date'])}"
            + (" : il est signalé ANCIENNE (alerte SAUVEGARDE_ANCIENNE sur chaque prescription)"
               if result["stale"] else "")
            + f" ; {len(result['warnings'])} avertissements de chargement.",
        )  # fmt: skip
        self.say(f"  synthétique : {_counts_fr(synthetic)}")
        self.say(f"  extraits HEGP : {_counts_fr(real)}")
        preview = self._hegp_preview()
        first, last = synth.KEY_RANGES["PRCLEUNIK"]
        protocols = [  # the real ones: outside the synthetic key range
            {"nom": r[0], "lignes": r[1]}
            for r in self.conn.execute(
                "SELECT p.name, count(l.line_id) FROM ref_protocols p LEFT JOIN "
                "ref_protocol_lines l ON l.protocol_id = p.protocol_id WHERE p.protocol_id NOT "
                "BETWEEN ? AND ? GROUP BY p.protocol_id ORDER BY p.name",
                (first, last),
            )
        ]
        self.story.facts["hegp"] = {
            "dossier": str(hegp_dir),
            "lignes": real,
            "protocoles": protocols,
            "prescription_test": preview,
        }
        doses = ", ".join(f"{name} {_fr(dose)} mg" for name, dose in preview["doses"])
        alerts = " ; ".join(f"[{rule}] {message}" for rule, message in preview["alertes"])
        self.story.tell(
            "hegp_prescription",
            f"Sur le thésaurus réel de l'HEGP, « {preview['protocole']} » calculé pour un patient "
            f"fictif (aperçu, rien n'est enregistré) : {doses}"
            + (f" ; alerte {alerts}" if alerts else "")
            + ".",
        )

    def _hegp_preview(self) -> dict[str, Any]:
        """Dose a real HEGP protocol for a synthetic patient: a preview on a scratch copy of the
        store (in memory), so that the day's store holds no patient of the preview."""
        from oncosecours.services.inclusion import find_protocol, include_patient
        from oncosecours.services.patients import create_patient
        from oncosecours.services.prescription import preview_prescription

        scratch = sqlite3.connect(":memory:", isolation_level=None)
        try:
            self.conn.backup(scratch)
            scratch.row_factory = sqlite3.Row
            scratch.execute("PRAGMA foreign_keys=ON")
            doctor = self.team[next(m.initials for m in ids.TEAM if m.role == "prescripteur")]
            person = dict(ids.HEGP_PATIENT)
            patient = create_patient(
                scratch, doctor, **person, ward=ids.WARD, measured_on=self.today,
                today=self.today,
            )  # fmt: skip
            protocol = find_protocol(scratch, ids.HEGP_PROTOCOL)
            inclusion = include_patient(
                scratch, doctor, patient["id"], protocol["protocol_id"], self.today,
                today=self.today,
            )  # fmt: skip
            draft = preview_prescription(
                scratch, inclusion["cures"][0]["id"], settings=self.settings, today=self.today
            )
        finally:
            scratch.close()
        return {
            "protocole": protocol["name"],
            "patient": _name(patient),
            "doses": [
                (line["molecule_name"], round(line["dose"], 2))
                for line in draft["lines"]
                if line["line_type"] == 1
            ],
            "alertes": [(f["regle"], f["message"]) for f in draft["findings"]],
        }

    # -- 4. patients, with a homonym caught -------------------------------------------------------

    def admit_patients(self) -> None:
        from oncosecours.services.patients import create_patient, record_measurements

        self.clock.set("07:30")
        for person in ids.PATIENTS:
            self.clock.tick(2)
            row = create_patient(
                self.conn,
                self.team[person.prescriber],
                birth_name=person.birth_name,
                usual_name=person.usual_name,
                first_name=person.first_name,
                birth_date=person.birth_date,
                sex=person.sex,
                ipp=person.ipp,
                ward=ids.WARD,
                weight_kg=person.weight_kg,
                height_cm=person.height_cm,
                creatinine_umol_l=None if person.creatinine_days_ago else person.creatinine_umol_l,
                measured_on=self.today,
                today=self.today,
            )
            if person.creatinine_days_ago:
                self.clock.tick(1)
                record_measurements(
                    self.conn,
                    self.team[person.prescriber],
                    row["id"],
                    creatinine_umol_l=person.creatinine_umol_l,
                    measured_on=self.today - timedelta(days=person.creatinine_days_ago),
                    today=self.today,
                )
            self.patients[person.key] = {**row, "plan": person}
        self._homonym()

    def _homonym(self) -> None:
        from oncosecours.services.patients import create_patient

        twin = self._backup_twin()
        origin = "la sauvegarde Chimio"
        if twin is None:  # no usable backup identity: the twin is a crisis patient
            twin = dict(ids.FALLBACK_HOMONYM)
            self.clock.tick(1)
            create_patient(self.conn, self.team["DR1"], **twin, ward=ids.WARD, today=self.today)
            origin = "les patients de la crise"
        actor = self.team[ids.HOMONYM["prescriber"]]
        identity = {
            "birth_name": twin["birth_name"],
            "first_name": twin["first_name"],
            "birth_date": twin["birth_date"][:10],
            "sex": twin["sex"],
            "ipp": ids.HOMONYM["ipp"],
            "ward": ids.WARD,
            "weight_kg": ids.HOMONYM["weight_kg"],
            "height_cm": ids.HOMONYM["height_cm"],
            "creatinine_umol_l": ids.HOMONYM["creatinine_umol_l"],
            "measured_on": self.today,
            "today": self.today,
        }
        self.clock.tick(2)
        try:
            create_patient(self.conn, actor, **identity)
        except OncoError as error:
            if error.rule != "HOMONYME":
                raise
            refusal = error.message
        else:
            raise OncoError(
                "Démonstration : l'homonyme n'a pas été détecté par le service patients",
                rule="DEMO",
            )
        self.say(f"  homonyme détecté : {refusal}")
        self.clock.tick(3)  # IPP and address checked with the patient
        row = create_patient(self.conn, actor, **identity, confirm_homonym=True)
        self.patients["homonyme"] = {**row, "plan": None}
        label = f"{twin['birth_name']} {twin['first_name']}, né(e) le {_fr_day(twin['birth_date'])}"
        self.story.facts["homonyme"] = {
            "refus": refusal,
            "confirme_par": actor.initials,
            "patient": _name(row),
            "origine": origin,
        }
        self.story.tell(
            "homonyme",
            f"HOMONYME DÉTECTÉ : créer {label} est refusé [HOMONYME], la même identité existe "
            f"dans {origin} ; après vérification (IPP différent), {actor.initials} confirme "
            "qu'il s'agit d'une autre personne et la confirmation est tracée au journal.",
        )

    def _backup_twin(self) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT patient_id, birth_name, usual_name, first_name, birth_date, sex "
            "FROM ref_patients WHERE birth_name IS NOT NULL AND first_name IS NOT NULL "
            "AND birth_date IS NOT NULL AND death_date IS NULL AND sex IN ('M', 'F') "
            "AND substr(birth_date, 1, 4) BETWEEN '1940' AND '1990' "
            "ORDER BY patient_id LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        return dict(row)

    # -- 5. inclusions -------------------------------------------------------------------------

    def _plan(self, key: str) -> dict[str, Any]:
        person = self.patients[key]["plan"]
        if person is None:
            return dict(ids.HOMONYM)
        return {"protocol": person.protocol, "prescriber": person.prescriber, "t0": person.t0}

    def include(self) -> None:
        from oncosecours.services.inclusion import find_protocol, include_patient

        texts = []
        self.clock.set("07:40")
        for key, patient in self.patients.items():
            plan = self._plan(key)
            protocol = find_protocol(self.conn, plan["protocol"])
            self.clock.tick(1)
            inclusion = include_patient(
                self.conn,
                self.team[plan["prescriber"]],
                patient["id"],
                protocol["protocol_id"],
                self.today,
                today=self.today,
            )
            self.cures[key] = inclusion["cures"][0]["id"]
            texts.append(f"{_name(patient)} → {protocol['name']}")
        self.story.tell(
            "inclusions", "Patients inclus, J1 aujourd'hui : " + " ; ".join(texts) + "."
        )

    # -- 6. prescriptions: carboplatin AUC, vincristine capped, oxaliplatin in NaCl --------------

    def prescribe(self) -> None:
        from oncosecours.services.prescription import prescribe

        adjustments: list[str] = []
        for key, patient in self.patients.items():
            plan = self._plan(key)
            options: dict[str, Any] = {}
            if key == "faure":
                options["les_codes"] = {"Rituximab": ids.LES_DEMO_CODE}
            if key == "roche":  # the prescriber picks NaCl: forbidden for oxaliplatin
                options["diluents"] = {"Oxaliplatine": "NaCl 0,9 %"}
            self.clock.set("07:45")
            self.clock.tick(2)
            draft = prescribe(
                self.conn,
                self.team[plan["prescriber"]],
                self.cures[key],
                settings=self.settings,
                today=self.today,
                **options,
            )
            self.prescriptions[key] = draft["prescription_id"]
            for line in draft["lines"]:
                if line["line_type"] == 1:
                    adjustments += self._tell_line(patient, line)
            alerts = ", ".join(f["regle"] for f in draft["findings"]) or "aucune"
            self.say(f"  {_name(patient)} : prescription n° {draft['prescription_id']} "
                     f"(alertes : {alerts})")  # fmt: skip
        self.story.facts["ajustements"] = adjustments

    def _tell_line(self, patient: dict[str, Any], line: dict[str, Any]) -> list[str]:
        """The adjustments of one prescribed line; the carboplatin and vincristine told."""
        shown = [a["message"] for a in json.loads(line["adjustments_json"])]
        said = "; ".join(shown)
        adjusted = f" — ajustement affiché : « {said} »" if said else ""
        who = _name(patient)
        if line["protocol_unit"] == "AUC":
            self.story.facts["carboplatine"] = {
                "patient": who,
                "dose_mg": round(line["dose"], 2),
                "base": line["basis"],
                "ajustements": shown,
            }
            self.story.tell(
                "carboplatine",
                f"Carboplatine de {who}, AUC {line['protocol_dose']:g} : {_fr(line['dose'])} mg"
                f"{adjusted}.",
            )
        elif _fold(line["molecule_name"]).startswith("VINCRISTINE"):
            self.story.facts["vincristine"] = {
                "patient": who,
                "theorique_mg": round(line["theoretical_dose"], 3),
                "dose_mg": round(line["dose"], 3),
                "ajustements": shown,
            }
            self.story.tell(
                "vincristine",
                f"Vincristine de {who}, {_fr(line['protocol_dose'])} mg/m² ({line['basis']}) : "
                f"{_fr(line['dose'])} mg{adjusted}.",
            )
        elif shown:
            self.story.tell("ajustement", f"{line['molecule_name']} de {who}{adjusted}.")
        return [f"{who}, {line['molecule_name']} : {m}" for m in shown]

    # -- 7. pharmaceutical validation: a refusal, a justification ---------------------------------

    def validate(self) -> None:
        from oncosecours.domain.checks import blocking_rules
        from oncosecours.services.notes import add_note
        from oncosecours.services.prescription import prescribe
        from oncosecours.services.validation import (
            findings_for,
            refuse_prescription,
            validate_prescription,
        )

        justified: dict[str, str] = {}
        self.clock.set("08:00")
        for key in list(self.patients):
            self.clock.tick(3)
            pid = self.prescriptions[key]
            pharmacist = self.team["PH2" if key == "homonyme" else "PH1"]
            findings = findings_for(self.conn, pid, settings=self.settings, today=self.today)
            blocking = blocking_rules(findings)
            if key == "roche":
                diluent = [f for f in findings if f.rule == "DILUANT_INTERDIT"]
                if not diluent:
                    raise OncoError(
                        "Démonstration : l'oxaliplatine dans le NaCl n'a pas été signalée",
                        rule="DEMO",
                    )
                comment = (
                    "Oxaliplatine prescrite dans NaCl 0,9 % : incompatible (dégradation), à "
                    "represcrire dans du glucose 5 %"
                )
                refuse_prescription(
                    self.conn, pharmacist, pid, comment=comment, settings=self.settings,
                    today=self.today,
                )  # fmt: skip
                self.story.facts["refus"] = {
                    "patient": _name(self.patients[key]),
                    "prescription": pid,
                    "alerte": diluent[0].message,
                    "commentaire": comment,
                    "par": pharmacist.initials,
                }
                refused_by = pharmacist.initials
                self.say(f"  prescription n° {pid} refusée : {diluent[0].message}")
                self.clock.tick(2)
                note = add_note(
                    self.conn,
                    pharmacist,
                    "Prescription refusée : l'oxaliplatine ne se dilue que dans du glucose 5 % "
                    "(jamais de NaCl). Merci de represcrire ; la poche sera faite dès la "
                    "nouvelle validation.",
                    prescription_id=pid,
                )
                prescriber = self.team[self._plan(key)["prescriber"]]
                self.clock.tick(8)  # the prescriber reads the note
                draft = prescribe(
                    self.conn, prescriber, self.cures[key], settings=self.settings,
                    today=self.today,
                )  # fmt: skip
                self.clock.tick(1)
                add_note(
                    self.conn,
                    prescriber,
                    f"Represcrit dans glucose 5 % (prescription n° {draft['prescription_id']}). "
                    "Merci pour la vigilance.",
                    prescription_id=draft["prescription_id"],
                )
                self.story.tell(
                    "refus",
                    f"REFUS de la prescription n° {pid} de {_name(self.patients[key])} par "
                    f"{refused_by} : [DILUANT_INTERDIT] {diluent[0].message} ; note au "
                    f"prescripteur (n° {note['id']}), {prescriber.initials} represcrit dans le "
                    "glucose 5 % et répond par une note, PH2 valide.",
                )
                self.prescriptions[key] = pid = draft["prescription_id"]
                pharmacist = self.team["PH2"]
                self.clock.tick(5)
                findings = findings_for(self.conn, pid, settings=self.settings, today=self.today)
                blocking = blocking_rules(findings)
            justifications: dict[str, str] = {}
            if key == "garnier":
                if "CREATININE_ANCIENNE" not in blocking:
                    raise OncoError(
                        "Démonstration : la créatinine ancienne n'a pas été signalée", rule="DEMO"
                    )
                try:  # a validation without the written justification is refused
                    validate_prescription(
                        self.conn, pharmacist, pid, settings=self.settings, today=self.today
                    )
                except OncoError as error:
                    if error.rule != "JUSTIFICATION":
                        raise
                    self.story.facts["validation_sans_justification"] = str(error)
                    self.say(f"  validation sans justification refusée : {error.rule}")
                self.clock.tick(2)
                justifications["CREATININE_ANCIENNE"] = (
                    "Créatinine du J-12 à 62 µmol/L, stable sur les trois derniers bilans ; le "
                    "DFG calculé dépasse 125 mL/min et la dose est de toute façon plafonnée "
                    "(AUC 5 × 150 = 750 mg). Bilan du jour prélevé, résultat à vérifier avant "
                    "la pose."
                )
                finding = next(f for f in findings if f.rule == "CREATININE_ANCIENNE")
                self.story.facts["justification"] = {
                    "patient": _name(self.patients[key]),
                    "prescription": pid,
                    "alerte": finding.message,
                    "justification": justifications["CREATININE_ANCIENNE"],
                    "par": pharmacist.initials,
                }
                self.story.tell(
                    "justification",
                    f"Validation AVEC JUSTIFICATION de la prescription de "
                    f"{_name(self.patients[key])} par {pharmacist.initials} : "
                    f"[CREATININE_ANCIENNE] {finding.message} ; refusée sans justification "
                    "écrite, acceptée avec.",
                )
            for rule in blocking:  # anything else the checks raise is shown, and justified
                if rule not in justifications:
                    message = "; ".join(f.message for f in findings if f.rule == rule)
                    justifications[rule] = f"Vérifié avec le prescripteur ({message[:120]})"
                    justified[rule] = message
            validate_prescription(
                self.conn,
                pharmacist,
                pid,
                justifications=justifications,
                comment="Validée (démonstration)",
                settings=self.settings,
                today=self.today,
            )
            warnings = [f for f in findings if not f.blocking]
            self.say(
                f"  {_name(self.patients[key])} : prescription n° {pid} validée par "
                f"{pharmacist.initials}"
                + (f" (avertissements : {', '.join(f.rule for f in warnings)})" if warnings else "")
            )
        self.story.facts["autres_justifications"] = justified
        if justified:
            self.story.tell(
                "autres_alertes",
                "Autres alertes bloquantes justifiées : "
                + " ; ".join(f"[{rule}] {text}" for rule, text in justified.items()),
            )

    # -- 8. the go-ahead (withheld once) ------------------------------------------------------------

    def go_ahead(self) -> None:
        from oncosecours.services.go_ahead import give_go_ahead, waiting_cures, withhold_go_ahead

        self.clock.set("08:30")
        waiting = waiting_cures(self.conn, self.today)
        self.story.facts["attente_feu_vert"] = len(waiting)
        order = ["garnier", "homonyme", "roche"]
        for key in order:
            give_go_ahead(
                self.conn,
                self.team[self._plan(key)["prescriber"]],
                self.cures[key],
                self.today,
                now=self.clock.tick(5),
            )
        reason = "PNN à 0,9 G/L ce matin : contrôle de la NFS à 9 h 30"
        withhold_go_ahead(
            self.conn, self.team["DR1"], self.cures["faure"], reason, self.today,
            now=self.clock.tick(5),
        )  # fmt: skip
        self.story.tell(
            "feu_vert",
            f"Feu vert donné pour {len(order)} cures ; SUSPENDU pour "
            f"{_name(self.patients['faure'])} ({reason}), puis donné à 09:35.",
        )

    # -- 9. preparation with ordonnancier numbers -------------------------------------------------

    def _day_lines(self, key: str, *, compounded: bool) -> list[dict[str, Any]]:
        from oncosecours.domain.production import needs_preparation
        from oncosecours.store.circuit import prescription_lines

        lines = [
            line
            for line in prescription_lines(self.conn, self.prescriptions[key])
            if line["admin_date"] == self.today.isoformat()
        ]
        lines.sort(key=lambda line: (line["time_offset_min"] or 0, line["line_no"]))
        return [
            line
            for line in lines
            if needs_preparation(line["line_type"], line["route"], line["molecule_id"])
            == compounded
        ]

    def prepare(self) -> None:
        from oncosecours.services.go_ahead import give_go_ahead
        from oncosecours.services.preparation import prepare, record_lots

        self.clock.set("08:50")
        preparers = {"garnier": "PR1", "homonyme": "PR2", "roche": "PR2", "faure": "PR1"}
        for key, initials in preparers.items():
            if key == "faure":  # the blood count came back: go-ahead given at 09:35
                give_go_ahead(
                    self.conn, self.team["DR1"], self.cures[key], self.today,
                    now=self.clock.set("09:35"),
                )  # fmt: skip
            for line in self._day_lines(key, compounded=True):
                actor = self.team[initials]
                draft = prepare(
                    self.conn, actor, line["id"], settings=self.settings, now=self.clock.tick(5)
                )
                sheet = record_lots(
                    self.conn, actor, draft["id"], _lots_for(draft, self.today),
                    now=self.clock.tick(2),
                )  # fmt: skip
                sheet["demo_key"] = key
                self.preparations.append(sheet)
                self.say(
                    f"  {sheet['ord_number']} {sheet['molecule_name']} {_fr(sheet['dose'])} "
                    f"{sheet['unit']} — {_name(self.patients[key])} ({initials})"
                )
        numbers = [p["ord_number"] for p in self.preparations]
        self.story.facts["ordonnancier"] = numbers
        self.story.tell(
            "fabrication",
            f"{len(numbers)} poches préparées, ordonnancier n° {numbers[0]} à {numbers[-1]} "
            "(consécutifs), lots et péremptions saisis.",
        )

    # -- 10. control (one out of tolerance) and release -------------------------------------------

    def control_and_release(self) -> None:
        from oncosecours.services.release import control_preparation, release_preparation

        self.clock.set("10:05")
        target = self._out_of_tolerance_target()
        for sheet in self.preparations:
            controller = self.team["PR2" if sheet["prepared_by_initials"] == "PR1" else "PR1"]
            factor = 1.08 if sheet is target else 1.01
            double = "PH2" if _fold(sheet["molecule_name"]).startswith("VINCRISTINE") else None
            result = control_preparation(
                self.conn,
                controller,
                sheet["id"],
                round(sheet["target_weight_g"] * factor, 1),
                visual_ok=True,
                double_checker=double,
                now=self.clock.tick(2),
            )
            sheet["control_flags"] = result.get("flags", [])
        self.clock.set("10:30")
        pharmacist = self.team["PH1"]
        for sheet in self.preparations:
            justification = None
            if sheet is target:
                try:
                    release_preparation(self.conn, pharmacist, sheet["id"], now=self.clock.tick(2))
                except OncoError as error:
                    if error.rule != "GRAVIMETRIE_HORS_TOLERANCE":
                        raise
                    refusal = error.message
                else:
                    raise OncoError(
                        "Démonstration : la poche hors tolérance a été libérée sans justification",
                        rule="DEMO",
                    )
                justification = (
                    "Repesée conforme à +8 % : suremplissage de la poche de diluant (tolérance "
                    "fabricant), volume de paclitaxel vérifié à la seringue en double contrôle"
                )
                self.story.facts["hors_tolerance"] = {
                    "numero": sheet["ord_number"],
                    "molecule": sheet["molecule_name"],
                    "refus_sans_justification": refusal,
                    "justification": justification,
                }
                measured = round(sheet["target_weight_g"] * 1.08, 1)
                self.story.tell(
                    "hors_tolerance",
                    f"Contrôle gravimétrique HORS TOLÉRANCE : n° {sheet['ord_number']} "
                    f"({sheet['molecule_name']}) pèse {_fr(measured, 1)} g pour "
                    f"{_fr(sheet['target_weight_g'], 1)} g ; libération sans justification refusée "
                    f"[GRAVIMETRIE_HORS_TOLERANCE], puis libérée par {pharmacist.initials} avec "
                    "une justification écrite.",
                )
                self.say(f"  {sheet['ord_number']} hors tolérance : libération sans "
                         "justification refusée, puis libérée avec justification")  # fmt: skip
            release_preparation(
                self.conn,
                pharmacist,
                sheet["id"],
                justification=justification,
                now=self.clock.tick(2),
            )
        self.liberator = pharmacist.initials

    def _out_of_tolerance_target(self) -> dict[str, Any]:
        for sheet in self.preparations:
            if _fold(sheet["molecule_name"]).startswith("PACLITAXEL"):
                return sheet
        return self.preparations[0]

    # -- 11. dispensing ---------------------------------------------------------------------------

    def dispense(self) -> None:
        from oncosecours.services.dispensing import dispense

        self.clock.set("10:50")
        nurse = next(m for m in ids.TEAM if m.role == "infirmier")
        for sheet in self.preparations:
            moment = self.clock.tick(1)
            dispense(
                self.conn,
                self.team["PR1"],
                sheet["id"],
                recipient=f"{nurse.name} (IDE)",
                now=moment,
            )
            sheet["dispensed_at"] = moment
        self.story.tell(
            "dispensation",
            f"{len(self.preparations)} poches contrôlées (double contrôle de la vincristine), "
            f"libérées par {self.liberator} (qui n'en a préparé aucune) et dispensées à "
            f"l'hôpital de jour.",
        )

    # -- 12. administration -------------------------------------------------------------------------

    def administer(self) -> None:
        from oncosecours.services.administration import administer

        nurse = self.team["IDE1"]
        by_line = {p["prescription_line_id"]: p for p in self.preparations}
        planned, running = [], []
        for key, patient in self.patients.items():
            t0 = self.clock.at(self._plan(key)["t0"])
            lines = self._day_lines(key, compounded=False) + self._day_lines(key, compounded=True)
            for line in lines:
                start = t0 + timedelta(minutes=line["time_offset_min"] or 0)
                prep = by_line.get(line["id"])
                if prep is not None:
                    start = max(start, prep["dispensed_at"] + timedelta(minutes=5))
                end = start + timedelta(minutes=max(int(line["duration_min"] or 0), 1))
                if end.time() > DAY_END or end.date() != self.today:
                    running.append(
                        f"{line['molecule_name']} de {_name(patient)} sur "
                        f"{_duration(line['duration_min'])}, posé à {start:%H:%M}"
                    )
                    continue
                planned.append((end, start, key, line, prep))
        # recorded by the nurse as each one ends (the clock only moves forward)
        planned.sort(key=lambda item: (item[0], item[1], item[3]["id"]))
        for end, start, key, line, prep in planned:
            incidents = []
            if key == "faure" and _fold(line["molecule_name"]).startswith("RITUXIMAB"):
                incidents = ["reaction:frissons à 30 min, débit divisé par deux, résolutif"]
            administer(
                self.conn,
                nurse,
                line_id=None if prep else line["id"],
                preparation=prep["ord_number"] if prep else None,
                started_at=start,
                ended_at=end,
                incidents=incidents,
                access="PAC",
                now=self.clock.set(end + timedelta(minutes=2)),
            )
        done = len(planned)
        self.story.facts["administrations"] = done
        self.story.facts["en_cours"] = running
        self.story.tell(
            "administration",
            f"{done} administrations enregistrées par {nurse.initials} (prémédications, poches, "
            "rinçages), dont une réaction au rituximab déclarée en incident"
            + (f" ; en cours le soir : {'; '.join(running)}" if running else "")
            + ".",
        )

    # -- 13. notes ---------------------------------------------------------------------------------

    def notes_summary(self) -> None:
        from oncosecours.services.notes import add_note

        nurse = self.team["IDE1"]
        self.clock.tick(5)
        first = add_note(
            self.conn,
            nurse,
            "Réaction au rituximab à 30 min (frissons) : débit divisé par deux, résolution en "
            "20 min, médecin prévenu.",
            patient=self.patients["faure"]["id"],
        )
        self.clock.tick(10)
        correction = add_note(
            self.conn,
            nurse,
            "Correction : réaction à 45 min (et non 30 min) après le début du rituximab.",
            corrects_note_id=first["id"],
        )
        total = self.conn.execute("SELECT count(*) FROM notes").fetchone()[0]
        self.story.facts["notes"] = total
        self.story.tell(
            "notes",
            f"{total} notes échangées ; la note n° {correction['id']} ({nurse.initials}) corrige "
            f"la n° {first['id']} (une note ne se modifie jamais).",
        )

    # -- 14. documents ----------------------------------------------------------------------------

    def documents(self, pdf: bool | None) -> None:
        """Word documents always; PDF with ``pdf=True``, never with False, None: if LibreOffice."""
        from oncosecours.documents import render

        base = self.paths.documents
        renderer = render.Renderer(self.settings)
        day = self.today.isoformat()
        now = self.clock.set("18:00")
        written: dict[str, list[str]] = {}
        combined: dict[str, str] = {}
        for kind, folder in (("fabrication", "fiches-fabrication"), ("etiquette", "etiquettes")):
            ids_ = [p["id"] for p in self.preparations]
            result = render.render_preparations(
                self.conn,
                ids_,
                kind,
                base / folder,
                combined_name=f"{render.FILE_PREFIX[kind]}s_{day}_toutes",
                pdf=False,
                renderer=renderer,
                now=now,
            )
            written[folder] = [str(p) for p in result.docx]
            combined[folder] = str(result.combined)
        plans = []
        for key in self.patients:
            result = render.render_care_plans(
                self.conn,
                day,
                base / "plans-de-soins",
                patient=self.patients[key]["ipp"],
                t0=self._plan(key)["t0"],
                pdf=False,
                renderer=renderer,
                now=now,
            )
            plans += [str(p) for p in result.docx]
        written["plans-de-soins"] = plans
        registers = []
        for order in ("date", "patient", "drug"):
            result = render.render_ordonnancier(
                self.conn, day, day, order, base / "ordonnancier", pdf=False,
                renderer=renderer, now=now,
            )  # fmt: skip
            registers += [str(p) for p in result.docx]
        written["ordonnancier"] = registers
        pdfs: list[str] = []
        pdf_note = None
        if pdf is not False:
            from oncosecours.documents import pdf as pdf_mod

            files = [Path(f) for group in written.values() for f in group]
            files += [Path(f) for f in combined.values()]
            if pdf_mod.soffice() is None:
                if pdf:
                    raise OncoError(
                        "LibreOffice (soffice) introuvable : PDF demandés mais impossibles",
                        hint="Installer LibreOffice, ou relancer avec --no-pdf",
                    )
                pdf_note = "LibreOffice absent : PDF non produits (les .docx sont écrits)"
            else:
                self.say(f"  conversion PDF de {len(files)} fichiers (LibreOffice, une passe)…")
                try:
                    pdfs = [str(p) for p in pdf_mod.convert(files, base / "pdf")]
                except OncoError as error:
                    if pdf:
                        raise
                    pdf_note = f"PDF non produits : {error}"
        self.story.facts["documents"] = {
            "dossier": str(base),
            "fichiers": written,
            "a_imprimer": combined,
            "pdf": pdfs,
            "pdf_note": pdf_note,
        }
        if pdf_note:
            self.say(f"  {pdf_note}")
        count = sum(len(v) for v in written.values()) + len(combined)
        self.story.tell(
            "documents",
            f"{count} documents Word"
            + (f" et {len(pdfs)} PDF" if pdfs else "")
            + " : fiches de fabrication, étiquettes, plans de soins, ordonnancier (par date, "
            "patient et molécule).",
        )

    # -- 15. verification and the second copy ------------------------------------------------------

    def verify(self) -> None:
        from oncosecours.services.day_status import day_status
        from oncosecours.store import audit
        from oncosecours.store.ordonnancier import check_sequence

        report = audit.verify(self.conn)
        sequence = check_sequence(self.conn)
        rows = day_status(self.conn, self.today, now=self.clock.set("18:30"))
        states: dict[str, int] = {}
        states_fr: dict[str, int] = {}
        for row in rows:
            states[row["state"]] = states.get(row["state"], 0) + 1
            french = row.get("state_fr") or row["state"]
            states_fr[french] = states_fr.get(french, 0) + 1
        self.story.facts["journal"] = {
            "ok": report.ok,
            "evenements": report.events,
            "probleme": report.problem,
        }
        self.story.facts["sequence_ordonnancier"] = {
            "ok": sequence.ok,
            "problemes": list(sequence.problems),
        }
        self.story.facts["etats_du_jour"] = states
        if not report.ok or not sequence.ok:
            raise OncoError(
                "Démonstration : vérification échouée — "
                + (report.problem or "; ".join(sequence.problems)),
                rule="DEMO",
            )
        self.story.tell(
            "verification",
            f"Journal d'audit vérifié : {report.events} événements chaînés, intacts ; "
            "ordonnancier sans trou ni doublon ; lignes du jour : "
            + ", ".join(f"{state} {n}" for state, n in sorted(states_fr.items()))
            + ".",
        )
        self._verify_replica()

    def _verify_replica(self) -> None:
        """The second copy configured in the demo's settings: up to date and intact."""
        try:
            from oncosecours.store.backup_check import verify_all
            from oncosecours.store.replica import replica_status
        except ImportError:  # an installation without the second-copy module
            self.story.facts["copie_secours"] = {
                "dossier": str(self.paths.replica),
                "ok": None,
                "message": "module de copie de secours absent de cette version",
            }
            self.story.tell(
                "copie", "Copie de secours configurée mais non vérifiée (module absent)."
            )
            return
        from oncosecours.store.replica import replicate, target_for

        target = target_for(self.settings, self.paths.store)
        written = replicate(self.conn, target, snapshot="maintenant") if target else None
        if not written or not written.get("ok"):
            raise OncoError(
                "Démonstration : copie de secours impossible — "
                + ((written or {}).get("message") or "aucun dossier configuré"),
                rule="DEMO",
            )
        checked = verify_all(self.settings, self.paths.store)
        status = replica_status(self.settings, self.paths.store)
        copy = checked.get("copie")
        problems = [*checked.get("remarques", [])]
        for item in [checked.get("base"), copy, *checked.get("instantanes", [])]:
            if item is not None and not item.ok:
                problems += [f"{item.path} : {p}" for p in item.problems]
        self.story.facts["copie_secours"] = {
            "dossier": str(self.paths.replica),
            "copie": status.get("copie"),
            "ok": bool(checked.get("ok")),
            "evenements_copie": getattr(copy, "seq", None),
            "instantanes": status.get("instantanes"),
            "message": status.get("message"),
            "problemes": problems,
        }
        if not checked.get("ok"):
            raise OncoError(
                "Démonstration : la copie de secours ne passe pas la vérification — "
                + "; ".join(problems or [status.get("message") or "?"]),
                rule="DEMO",
            )
        self.story.tell(
            "copie",
            f"Copie de secours écrite sur le second support puis vérifiée : à jour "
            f"({getattr(copy, 'seq', '?')} événements), journal intact, instantané du jour avec "
            "somme de contrôle (en service, la copie est refaite après chaque action ; la "
            "démonstration, jouée à l'heure simulée, la fait en fin de journée).",
        )

    # -- 16. the workbook (after the copy) ---------------------------------------------------------

    def workbook(self) -> None:
        from oncosecours.excel.builder import build_workbook

        path = build_workbook(
            self.paths.workbook,
            store=self.paths.store,
            settings=self.paths.settings,
            day=self.today,
        )
        self.story.facts["classeur"] = str(path)
        self.story.tell(
            "classeur",
            "Classeur Excel de crise construit sur la base du jour, après la copie de secours "
            "(son Accueil montre l'état de la copie).",
        )


# --- small helpers ------------------------------------------------------------------------------


def _lots_for(sheet: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """Plausible lots for every vial and the diluent of a preparation (expiry in a year)."""
    expiry = f"{(today.month % 12) + 1:02d}/{today.year + 1}"
    lots = [
        {
            "kind": "flacon",
            "component": p["name"],
            "lot": f"L{str(p['product_id'])[-5:]}{today:%y}",
            "expiry": expiry,
            "quantity": p["count"],
            "product_id": p["product_id"],
        }
        for p in sheet["products"]
    ]
    if sheet["diluent"]:
        lots.append(
            {
                "kind": "diluant",
                "component": sheet["diluent"],
                "lot": f"D{today:%y%m}01",
                "expiry": expiry,
            }  # fmt: skip
        )
    return lots


def _name(patient: dict[str, Any]) -> str:
    usual = f" ({patient['usual_name']})" if patient.get("usual_name") else ""
    return f"{patient['birth_name']}{usual} {patient['first_name']}"


def _fold(text: str | None) -> str:
    from oncosecours.domain.identity import fold

    return fold(text)


def _fr(value: float, decimals: int = 2) -> str:
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def _fr_day(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}"


def _duration(minutes: int | None) -> str:
    minutes = int(minutes or 0)
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def _counts_fr(counts: dict[str, int]) -> str:
    return (
        f"{counts['patients']} patients, {counts['protocols']} protocoles "
        f"({counts['protocol_lines']} lignes), {counts['molecules']} molécules, "
        f"{counts['products']} produits, {counts['history']} lignes d'historique"
    )
