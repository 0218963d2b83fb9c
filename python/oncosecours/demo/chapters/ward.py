"""Chapters 11 to 13 of the crisis day: dispensing, administration on the ward, the notes."""

from __future__ import annotations

from datetime import timedelta

from oncosecours.demo import identities as ids
from oncosecours.demo.common import (
    DAY_END,
    _duration,
    _fold,
    _name,
)
from oncosecours.store import patients as store_patients


class WardChapters:
    """The ward's part of the day."""

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
        total = store_patients.notes_count(self.conn)
        self.story.facts["notes"] = total
        self.story.tell(
            "notes",
            f"{total} notes échangées ; la note n° {correction['id']} ({nurse.initials}) corrige "
            f"la n° {first['id']} (une note ne se modifie jamais).",
        )
