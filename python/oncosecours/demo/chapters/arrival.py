"""Chapters 1 to 6 of the crisis day: the backup, the team, the refresh, the patients (a homonym
caught), the inclusions and the prescriptions."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from oncosecours.demo import identities as ids
from oncosecours.demo.common import (
    ROLES_FR,
    SCALE,
    SEED,
    _counts_fr,
    _fold,
    _fr,
    _fr_day,
    _name,
)
from oncosecours.domain.errors import OncoError
from oncosecours.store import patients as store_patients
from oncosecours.store import reference
from oncosecours.store.db import memory_copy


class ArrivalChapters:
    """From the Chimio backup to the day's prescriptions."""

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
        # being far from Chimio's (see refresh/synth/catalogue.py KEY_RANGES).
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
            {"nom": r["name"], "lignes": r["lines"]}
            for r in reference.protocols_outside_keys(self.conn, first, last)
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

        scratch = memory_copy(self.conn)
        try:
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
        return store_patients.backup_adult_with_identity(self.conn)

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
