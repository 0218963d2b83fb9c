"""Chapter 15 of the crisis day: the checks a pharmacist would make at the end (audit chain,
ordonnancier sequence, day status) and the second copy written and verified."""

from __future__ import annotations

from oncosecours.domain.errors import OncoError


class Verification:
    """The end-of-day checks."""

    # -- 15. verification and the second copy ------------------------------------------------------

    def verify(self) -> None:
        from oncosecours.services.day_status import day_status
        from oncosecours.store.integrity import verify_store
        from oncosecours.store.ordonnancier import check_sequence

        report = verify_store(self.conn)
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
            "probleme": None if report.ok else report.text(),
            "lignes_comparees": report.rows.rows,
        }
        self.story.facts["sequence_ordonnancier"] = {
            "ok": sequence.ok,
            "problemes": list(sequence.problems),
        }
        self.story.facts["etats_du_jour"] = states
        if not report.ok or not sequence.ok:
            raise OncoError(
                "Démonstration : vérification échouée — "
                + (report.text() if not report.ok else "; ".join(sequence.problems)),
                rule="DEMO",
            )
        self.story.tell(
            "verification",
            f"Journal d'audit vérifié : {report.events} événements chaînés, intacts ; "
            f"tables conformes au journal ({report.rows.rows} lignes comparées) ; "
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
