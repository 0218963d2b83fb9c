"""Operational qualification (OQ) without Excel: a scripted crisis day on a scratch store.

Everything runs in a scratch folder (never the unit's register, never its second medium), on a
fixed simulated day, through the services the CLI and the ribbon call, with the unit's own
settings, queries and templates (the kit's). Each observed value is compared with a value of
``attendus.toml`` computed by hand from the published formula; a step that raises stops the day,
and the steps not played are reported as failing, never skipped silently.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.qualification import oq_checks as C
from oncosecours.qualification.items import NON_CONFORME, Item
from oncosecours.qualification.oq_circuit import CircuitSteps

PHASE = "OQ"
EXPECTED = Path(__file__).with_name("attendus.toml")
TEAM = (
    ("DR1", "Dr Essai Prescripteur", "prescripteur"),
    ("PH1", "Essai Pharmacien Un", "pharmacien"),
    ("PH2", "Essai Pharmacien Deux", "pharmacien"),
    ("PR1", "Essai Préparateur Un", "préparateur"),
    ("PR2", "Essai Préparateur Deux", "préparateur"),
    ("IDE1", "Essai Infirmier", "infirmier"),
)


def load_expected(path: Path = EXPECTED) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


class _Clock:
    def __init__(self, day: date) -> None:
        self.tz = datetime.now().astimezone().tzinfo
        self.current = datetime.combine(day, time(7, 0), tzinfo=self.tz)

    def tick(self, minutes: int = 3) -> datetime:
        self.current += timedelta(minutes=minutes)
        return self.current


class OqDay(CircuitSteps):
    """One scripted day; ``items`` grows as the steps play."""

    def __init__(self, kit: Path, settings, scratch: Path, expected: dict[str, Any]) -> None:
        self.kit = kit
        self.unit_settings = settings
        self.scratch = scratch
        self.expected = expected
        self.day: date = expected["jour"]["date"]
        self.clock = _Clock(self.day)
        self.items: list[Item] = []
        self.team: dict[str, Any] = {}
        self.patients: dict[str, dict] = {}
        self.cures: dict[str, int] = {}
        self.prescriptions: dict[str, int] = {}
        self.drafts: dict[str, dict] = {}
        self.preparations: list[dict] = []
        sections = on_scratch_file(settings.as_dict())
        sections["copie_secours"] = {**sections["copie_secours"], "dossier": str(scratch / "copie")}
        from oncosecours.settings import Settings

        self.settings = Settings(sections, getattr(settings, "source", None))
        self.store = scratch / "oncosecours-essai.sqlite"
        self.conn = None

    # -- helpers -------------------------------------------------------------------------------

    def add(self, ref: str, title: str, expected: str, observed: str, ok: bool, **extra) -> None:
        self.items.append(C.item(ref, PHASE, title, expected, observed, ok, **extra))

    def refused(self, call: Callable[[], Any]) -> OncoError | None:
        """The refusal a call must raise (None when it was accepted)."""
        try:
            call()
        except OncoError as error:
            return error
        return None

    # -- the steps -----------------------------------------------------------------------------

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        return [
            ("OQ-01", self.reference_settings),
            ("OQ-02", self.team_and_pins),
            ("OQ-05", self.refresh),
            ("OQ-06", self.admit),
            ("OQ-08", self.prescribe),
            ("OQ-12", self.validate),
            ("OQ-15", self.go_ahead_and_prepare),
            ("OQ-18", self.control_release_dispense),
            ("OQ-21", self.documents),
            ("OQ-25", self.verify),
            ("OQ-27", self.second_copy),
        ]

    def play(self) -> list[Item]:
        from oncosecours.store.db import connect_file

        self.conn = connect_file(self.store)  # a scratch file whatever the unit's engine
        try:
            plan = self.steps()
            for index, (ref, step) in enumerate(plan):
                try:
                    step()
                except Exception as exc:  # the day stops; what was not played is said
                    message = exc.message if isinstance(exc, OncoError) else repr(exc)
                    self.items.append(
                        Item(
                            ref,
                            PHASE,
                            f"Étape « {step.__doc__ or step.__name__} »",
                            "étape jouée jusqu'au bout",
                            f"arrêt : {message}",
                            NON_CONFORME,
                            "les étapes suivantes n'ont pas été jouées",
                        )  # fmt: skip
                    )
                    for later_ref, later in plan[index + 1 :]:
                        self.items.append(
                            Item(
                                later_ref,
                                PHASE,
                                f"Étape « {later.__doc__ or later.__name__} »",
                                "étape jouée",
                                "non jouée",
                                NON_CONFORME,
                                f"arrêt à l'étape {ref}",
                            )  # fmt: skip
                        )
                    break
        finally:
            self.conn.close()
        return self.items

    def reference_settings(self) -> None:
        """Paramètres de dosage de référence"""
        deviations = C.settings_deviations(self.unit_settings, self.expected)
        self.add(
            "OQ-01", "Paramètres de dosage de l'établissement",
            "paramètres de référence des valeurs attendues",
            "; ".join(deviations) or "identiques", not deviations,
            reason="paramétrage différent : justifier et recalculer les valeurs attendues"
            if deviations else "", source=str(EXPECTED.name),
        )  # fmt: skip

    def team_and_pins(self) -> None:
        """Utilisateurs et codes PIN"""
        from oncosecours.services.users import authenticate, bootstrap_admin, create_user

        pin = self.expected["jour"]["pin_equipe"]
        admin = bootstrap_admin(self.conn, "ADM", "Administrateur de l'essai", pin)
        for initials, name, role in TEAM:
            self.team[initials] = create_user(self.conn, admin, initials, name, role, pin)
        self.add(
            "OQ-02",
            "Création de l'équipe (un utilisateur par rôle)",
            "6 utilisateurs créés par l'administrateur",
            f"{len(self.team)} créés : " + ", ".join(self.team),
            len(self.team) == 6,
        )
        weak = self.expected["pin"]["refuses"]
        accepted = [
            p for n, p in enumerate(weak, start=1)
            if self.refused(lambda n=n, p=p: create_user(self.conn, admin, f"FAIBLE{n}",
                                                         "Essai", "infirmier", p)) is None
        ]  # fmt: skip
        self.add("OQ-03", "Politique des codes PIN (PIN faibles refusés)",
                 "refusés : " + ", ".join(weak),
                 "acceptés : " + ", ".join(accepted) if accepted else "tous refusés",
                 not accepted, source=self.expected["pin"]["source"])  # fmt: skip
        wrong = self.refused(lambda: authenticate(self.conn, "PH1", pin[::-1] + "9"))
        right = self.refused(lambda: authenticate(self.conn, "PH1", pin))
        role = self.refused(
            lambda: create_user(self.conn, self.team["PR1"], "ZZ1", "Essai", "infirmier", pin)
        )
        self.add(
            "OQ-04",
            "Authentification et rôles",
            "PIN faux refusé, PIN juste accepté, préparateur ne crée pas d'utilisateur",
            f"PIN faux : {'refusé' if wrong else 'ACCEPTÉ'} ; PIN juste : "
            f"{'accepté' if right is None else 'REFUSÉ'} ; rôle : "
            f"{f'refusé [{role.rule}]' if role else 'ACCEPTÉ'}",
            bool(wrong) and right is None and bool(role) and role.rule == "ROLE",
        )

    def refresh(self) -> None:
        """Actualisation des sauvegardes"""
        from oncosecours.refresh import synth
        from oncosecours.services.refresh import refresh_snapshot

        folder = self.scratch / "sauvegarde-chimio"
        written = synth.generate(folder, "small", seed=self.expected["jour"]["graine_sauvegarde"],
                                 backup_date=self.day - timedelta(days=1))  # fmt: skip
        queries = self.kit / "queries"
        result = refresh_snapshot(
            self.conn, self.team["PH1"], [folder], settings=self.settings,
            queries_dir=queries if queries.is_dir() else None, today=self.day,
        )  # fmt: skip
        loaded = result["tables"]
        diff = {k: (v, loaded.get(k)) for k, v in written.items() if loaded.get(k) != v}
        self.add("OQ-05", "Actualisation : sauvegarde Chimio relue avec les requêtes du poste",
                 ", ".join(f"{k} {v}" for k, v in written.items()),
                 ", ".join(f"{k} {v}" for k, v in loaded.items()), not diff,
                 reason="; ".join(f"{k} : {a} écrits, {b} chargés" for k, (a, b) in diff.items()),
                 source="lignes écrites par le générateur de sauvegarde")  # fmt: skip

    def admit(self) -> None:
        """Patients et inclusions"""
        from oncosecours.services.inclusion import find_protocol, include_patient
        from oncosecours.services.patients import create_patient, record_measurements

        doctor = self.team["DR1"]
        for person in self.expected["patients"]:
            self.clock.tick()
            old = person.get("creatinine_anciennete_jours", 0)
            row = create_patient(
                self.conn, doctor, birth_name=person["nom"], first_name=person["prenom"],
                birth_date=person["date_naissance"], sex=person["sexe"], ipp=person["ipp"],
                ward="Qualification", weight_kg=person["poids_kg"], height_cm=person["taille_cm"],
                creatinine_umol_l=None if old else person["creatinine_umol_l"],
                measured_on=self.day, today=self.day,
            )  # fmt: skip
            if old:
                record_measurements(
                    self.conn,
                    doctor,
                    row["id"],
                    creatinine_umol_l=person["creatinine_umol_l"],
                    measured_on=self.day - timedelta(days=old),
                    today=self.day,
                )
            self.patients[person["cle"]] = row
            protocol = find_protocol(self.conn, person["protocole"])
            inclusion = include_patient(self.conn, doctor, row["id"], protocol["protocol_id"],
                                        self.day, today=self.day)  # fmt: skip
            self.cures[person["cle"]] = inclusion["cures"][0]["id"]
        twin = self.expected["patients"][0]
        error = self.refused(
            lambda: create_patient(
                self.conn,
                doctor,
                birth_name=twin["nom"].lower(),
                first_name=twin["prenom"],
                birth_date=twin["date_naissance"],
                sex=twin["sexe"],
                ipp="Q0009999",
                today=self.day,
            )  # fmt: skip
        )
        want = self.expected["refus"]["homonyme"]
        self.add(
            "OQ-06",
            "Identitovigilance : homonyme refusé",
            f"refus [{want}]",
            C.refusal_text(error),
            bool(error) and error.rule == want,
        )
        self.add(
            "OQ-07",
            "Patients créés et inclus",
            f"{len(self.expected['patients'])} cures",
            f"{len(self.cures)} cures",
            len(self.cures) == len(self.expected["patients"]),
        )

    def prescribe(self) -> None:
        """Prescriptions et calcul des doses"""
        from oncosecours.services.prescription import prescribe

        nurse = self.team["IDE1"]
        first = next(iter(self.cures.values()))
        error = self.refused(
            lambda: prescribe(self.conn, nurse, first, settings=self.settings, today=self.day)
        )
        self.add(
            "OQ-08",
            "Rôle : un infirmier ne prescrit pas",
            "refus [ROLE]",
            C.refusal_text(error),
            bool(error) and error.rule == "ROLE",
        )
        formula = self.settings["dosage"]["formule_surface"]
        for person in self.expected["patients"]:
            key = person["cle"]
            options = {}
            if person.get("diluant_interdit"):
                options["diluents"] = {"Oxaliplatine": person["diluant_interdit"]}
            self.clock.tick()
            draft = prescribe(self.conn, self.team["DR1"], self.cures[key],
                              settings=self.settings, today=self.day, **options)  # fmt: skip
            self.prescriptions[key] = draft["prescription_id"]
            self.drafts[key] = draft
            self.items.append(C.bsa_item(f"OQ-09.{key}", PHASE, person, draft, formula))
            for dose in person["doses"]:
                self.items.append(C.dose_item(f"OQ-10.{key}.{dose['molecule']}", PHASE, person,
                                              dose, draft))  # fmt: skip
            if "dfg_calcule_ml_min" in person:
                self.items.append(C.gfr_item(f"OQ-11.{key}", PHASE, person, draft))

    def validate(self) -> None:
        """Validation pharmaceutique"""
        from oncosecours.domain.checks import blocking_rules
        from oncosecours.services.prescription import prescribe
        from oncosecours.services.validation import (
            findings_for,
            refuse_prescription,
            validate_prescription,
        )

        refusals = self.expected["refus"]
        pharmacist = self.team["PH1"]
        tried_without = False
        for person in self.expected["patients"]:
            key = person["cle"]
            pid = self.prescriptions[key]
            findings = findings_for(self.conn, pid, settings=self.settings, today=self.day)
            if person.get("diluant_interdit"):
                fired = [f for f in findings if f.rule == refusals["diluant"]]
                self.add(f"OQ-12.{key}", f"Règle {refusals['diluant']} (oxaliplatine dans "
                         f"{person['diluant_interdit']})", f"alerte [{refusals['diluant']}]",
                         fired[0].message if fired else "aucune alerte", bool(fired))  # fmt: skip
                refuse_prescription(self.conn, pharmacist, pid, comment="Diluant interdit : "
                                    "represcrire dans du glucose 5 %", settings=self.settings,
                                    today=self.day)  # fmt: skip
                draft = prescribe(self.conn, self.team["DR1"], self.cures[key],
                                  settings=self.settings, today=self.day)  # fmt: skip
                self.prescriptions[key] = pid = draft["prescription_id"]
                findings = findings_for(self.conn, pid, settings=self.settings, today=self.day)
            blocking = blocking_rules(findings)
            if person.get("alertes_bloquantes"):
                wanted = person["alertes_bloquantes"]
                absent = [r for r in wanted if r not in blocking]
                self.add(f"OQ-12.{key}", f"Alertes bloquantes de {person['nom']}",
                         ", ".join(wanted), ", ".join(blocking) or "aucune", not absent,
                         source=person.get("source_alertes", ""))  # fmt: skip
            if blocking and not tried_without:
                tried_without = True
                error = self.refused(
                    lambda pid=pid: validate_prescription(
                        self.conn, pharmacist, pid, settings=self.settings, today=self.day
                    )
                )
                self.add("OQ-13", "Validation sans justification d'une alerte bloquante",
                         f"refus [{refusals['justification']}]", C.refusal_text(error),
                         bool(error) and error.rule == refusals["justification"])  # fmt: skip
            justifications = {rule: "Vu avec le prescripteur (qualification)" for rule in blocking}
            validate_prescription(self.conn, pharmacist, pid, justifications=justifications,
                                  settings=self.settings, today=self.day)  # fmt: skip
        if not tried_without:
            self.items.append(
                Item(
                    "OQ-13",
                    PHASE,
                    "Validation sans justification d'une alerte bloquante",
                    f"refus [{refusals['justification']}]",
                    "aucune alerte bloquante dans le jeu d'essai",
                    NON_CONFORME,
                    "le jeu d'essai doit déclencher au moins une alerte bloquante",
                )
            )
        from oncosecours.services.queries import prescription_detail

        states = [
            prescription_detail(self.conn, pid)["prescription"]["state"]
            for pid in self.prescriptions.values()
        ]
        self.add(
            "OQ-14",
            "Prescriptions validées (état relu dans la base)",
            f"{len(self.prescriptions)} × validated",
            ", ".join(states),
            states == ["validated"] * len(self.expected["patients"]),
        )


def on_scratch_file(sections: dict[str, Any]) -> dict[str, Any]:
    """The settings with the register on a SQLite file: a workstation of a unit on PostgreSQL
    plays its day on the scratch file too, never on the unit's server."""
    return {**sections, "base": {**sections["base"], "moteur": "sqlite"}}


@contextmanager
def _isolated(kit: Path, clock: _Clock):
    """The simulated clock, the kit's settings file for every ``load_settings()``, and no live
    second copy while the day plays (the copy is written once at the end, in the scratch)."""
    from oncosecours import clock as app_clock
    from oncosecours.settings import ENV_VAR, Settings, load_settings
    from oncosecours.store import replica

    with ExitStack() as stack:
        before = os.environ.get(ENV_VAR)
        settings_file = kit / "etablissement.toml"
        if settings_file.is_file():
            os.environ[ENV_VAR] = str(settings_file)
        stack.callback(lambda: _restore_env(ENV_VAR, before))
        paused = on_scratch_file(load_settings().as_dict())
        paused["copie_secours"] = {**paused["copie_secours"], "dossier": ""}
        saved = replica.use_settings(Settings(paused, None))
        stack.callback(lambda: replica.use_settings(saved))
        stack.enter_context(app_clock.use(lambda: clock.current))
        yield


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def run_oq(kit: Path, settings, *, keep: Path | None = None) -> list[Item]:
    """Play the day in a fresh scratch folder (removed afterwards unless ``keep`` names where
    to leave it, for the inspector)."""
    expected = load_expected()
    scratch = Path(tempfile.mkdtemp(prefix="oncosecours-oq-"))
    try:
        day = OqDay(kit, settings, scratch, expected)
        with _isolated(kit, day.clock):
            items = day.play()
        if keep is not None:
            shutil.copytree(scratch, keep, dirs_exist_ok=True)
        return items
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
