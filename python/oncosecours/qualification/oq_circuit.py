"""The second half of the OQ day: go-ahead, compounding, control, release, dispensing,
administration, documents read back, audit and ordonnancier checks, second copy restored."""

from __future__ import annotations

from datetime import timedelta

from oncosecours.qualification import oq_checks as C

PHASE = "OQ"


class CircuitSteps:
    """Steps played by :class:`oncosecours.qualification.oq.OqDay` after the validation."""

    def go_ahead_and_prepare(self) -> None:
        """Feu vert, fabrication, ordonnancier"""
        from oncosecours.services.go_ahead import day_decision, day_state, give_go_ahead
        from oncosecours.services.preparation import prepare, record_lots

        for cure in self.cures.values():
            give_go_ahead(self.conn, self.team["DR1"], cure, self.day, now=self.clock.tick())
        states = [day_state(day_decision(self.conn, c, self.day.isoformat()))
                  for c in self.cures.values()]  # fmt: skip
        self.add("OQ-15", "Feu vert (état relu dans la base)", f"{len(self.cures)} × go_ahead",
                 ", ".join(states), states == ["go_ahead"] * len(self.cures))  # fmt: skip
        expired_tried = False
        for key, pid in self.prescriptions.items():
            for line in C.compounded_lines(self.conn, pid, self.day):
                draft = prepare(self.conn, self.team["PR1"], line["id"], settings=self.settings,
                                now=self.clock.tick())  # fmt: skip
                if not expired_tried:
                    expired_tried = True
                    old = C.lots_for(draft, self.day - timedelta(days=40))
                    error = self.refused(
                        lambda d=draft, o=old: record_lots(
                            self.conn, self.team["PR1"], d["id"], o, now=self.clock.tick()
                        )
                    )
                    self.add(
                        "OQ-16", "Lot périmé refusé", "refus", C.refusal_text(error), bool(error)
                    )
                sheet = record_lots(self.conn, self.team["PR1"], draft["id"],
                                    C.lots_for(draft, self.day + timedelta(days=365)),
                                    now=self.clock.tick())  # fmt: skip
                sheet["qualif_key"] = key
                self.preparations.append(sheet)
        numbers = [p["ord_number"] for p in self.preparations]
        wanted = C.consecutive(self.expected["ordonnancier"]["premier_numero"], len(numbers))
        self.add("OQ-17", "Numéros d'ordonnancier (format, consécutifs)", ", ".join(wanted),
                 ", ".join(numbers), numbers == wanted and bool(numbers),
                 source=self.expected["ordonnancier"]["source"])  # fmt: skip

    def control_release_dispense(self) -> None:
        """Contrôle, libération, dispensation, administration"""
        from oncosecours.domain.identity import fold
        from oncosecours.services.administration import administer
        from oncosecours.services.dispensing import dispense
        from oncosecours.services.release import control_preparation, release_preparation

        rule = self.expected["refus"]["gravimetrie"]
        outlier = self.preparations[0]
        for sheet in self.preparations:
            factor = 1.08 if sheet is outlier else 1.01
            vinca = fold(sheet["molecule_name"]).startswith("VINCRISTINE")
            control_preparation(self.conn, self.team["PR2"], sheet["id"],
                                round(sheet["target_weight_g"] * factor, 1), visual_ok=True,
                                double_checker="PH2" if vinca else None,
                                now=self.clock.tick())  # fmt: skip
        error = self.refused(
            lambda: release_preparation(
                self.conn, self.team["PH1"], outlier["id"], now=self.clock.tick()
            )
        )
        self.add("OQ-18", "Contrôle gravimétrique hors tolérance (+8 %)", f"refus [{rule}]",
                 C.refusal_text(error), bool(error) and error.rule == rule)  # fmt: skip
        for sheet in self.preparations:
            release_preparation(
                self.conn, self.team["PH1"], sheet["id"], now=self.clock.tick(),
                justification="Repesée, écart expliqué (qualification)" if sheet is outlier
                else None,
            )  # fmt: skip
            dispense(self.conn, self.team["PR1"], sheet["id"], recipient="IDE de l'essai",
                     now=self.clock.tick(1))  # fmt: skip
        self.add_states("OQ-19", "Libération et dispensation (état relu dans la base)", "dispensed")
        done = 0
        for sheet in self.preparations:
            start = self.clock.tick(5)
            end = start + timedelta(minutes=30)
            administer(self.conn, self.team["IDE1"], preparation=sheet["ord_number"],
                       started_at=start, ended_at=end, access="PAC",
                       now=end + timedelta(minutes=1))  # fmt: skip
            self.clock.current = end + timedelta(minutes=2)
            done += 1
        self.add_states("OQ-20", f"Administration des {done} poches (état relu dans la base)",
                        "administered")  # fmt: skip

    def add_states(self, ref: str, title: str, wanted: str) -> None:
        from oncosecours.services.preparation import resolve_preparation

        states = [resolve_preparation(self.conn, p["id"])["state"] for p in self.preparations]
        self.add(ref, title, f"{len(self.preparations)} × {wanted}", ", ".join(states),
                 bool(states) and states == [wanted] * len(states))  # fmt: skip

    def documents(self) -> None:
        """Documents produits et relus"""
        from oncosecours.documents import render

        folder = self.scratch / "documents"
        templates = self.kit / "templates"
        renderer = render.Renderer(self.settings, templates if templates.is_dir() else None)
        ids = [p["id"] for p in self.preparations]
        now = self.clock.tick()
        fiches = render.render_preparations(self.conn, ids, "fabrication", folder / "fiches",
                                            pdf=False, renderer=renderer, now=now)  # fmt: skip
        labels = render.render_preparations(self.conn, ids, "etiquette", folder / "etiquettes",
                                            pdf=False, renderer=renderer, now=now)  # fmt: skip
        plans = []
        for person in self.expected["patients"]:
            plans += render.render_care_plans(self.conn, self.day.isoformat(), folder / "plans",
                                              patient=person["ipp"], t0="09:00", pdf=False,
                                              renderer=renderer, now=now).docx  # fmt: skip
        register = render.render_ordonnancier(self.conn, self.day.isoformat(),
                                              self.day.isoformat(), "date", folder / "registre",
                                              pdf=False, renderer=renderer, now=now)  # fmt: skip
        self.items += C.document_items(PHASE, self.preparations, self.expected, fiches.docx,
                                       labels.docx, plans, register.docx)  # fmt: skip

    def verify(self) -> None:
        """Journal d'audit et ordonnancier"""
        from oncosecours.store.integrity import verify_store
        from oncosecours.store.ordonnancier import check_sequence

        report = verify_store(self.conn)
        self.add("OQ-25", "Journal d'audit chaîné et tables conformes au journal (audit verify)",
                 "intègre", report.text(), report.ok and report.events > 0)  # fmt: skip
        sequence = check_sequence(self.conn)
        self.add(
            "OQ-26",
            "Ordonnancier sans trou ni doublon (ordonnancier verify)",
            "intègre",
            "intègre" if sequence.ok else "; ".join(sequence.problems),
            sequence.ok,
        )

    def second_copy(self) -> None:
        """Copie de secours écrite et restaurée"""
        from oncosecours.ops.restore import check_source, restore
        from oncosecours.services.preparation import resolve_preparation
        from oncosecours.store import audit
        from oncosecours.store.db import connect_file
        from oncosecours.store.replica import replicate, target_for

        target = target_for(self.settings, self.store)
        written = replicate(self.conn, target, snapshot="maintenant") if target else {}
        copy = target.replica if target is not None else None
        checked = check_source(copy) if copy else None
        self.add(
            "OQ-27",
            "Copie de secours écrite sur le second support (d'essai)",
            "copie écrite et vérifiée",
            f"{written.get('message', '')}"
            + (
                f" ; vérification : {'intègre' if checked.ok else checked.problems}"
                if checked
                else ""
            ),
            bool(written.get("ok")) and bool(checked and checked.ok),
        )
        restored = self.scratch / "restauree" / "oncosecours.sqlite"
        restored.parent.mkdir()
        restore(copy, restored, settings=self.settings, now=self.clock.tick())
        main_events = audit.verify(self.conn).events
        again = connect_file(restored, create=False)
        try:
            report = audit.verify(again)
            states = [resolve_preparation(again, p["id"])["state"] for p in self.preparations]
        finally:
            again.close()
        self.add(
            "OQ-28",
            "Restauration depuis la copie de secours",
            f"{main_events} événements, {len(self.preparations)} poches administrées, journal "
            "intègre",
            f"{report.events} événements, poches : {', '.join(states)}, "
            + ("journal intègre" if report.ok else report.problem),
            report.ok
            and report.events >= main_events
            and states == ["administered"] * len(self.preparations),
        )
