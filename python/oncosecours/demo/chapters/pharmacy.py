"""Chapters 7 to 10 of the crisis day: pharmaceutical validation (a refusal, a justification), the
go-ahead (withheld once), preparation with ordonnancier numbers, control and release."""

from __future__ import annotations

from typing import Any

from oncosecours.demo.common import (
    _fold,
    _fr,
    _lots_for,
    _name,
)
from oncosecours.domain.errors import OncoError


class PharmacyChapters:
    """The pharmacy's part of the day."""

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
