"""Chapters 14 and 16 of the crisis day: the printed documents and the workbook (built after the
second copy, so that its Accueil shows the copy's state)."""

from __future__ import annotations

from pathlib import Path

from oncosecours.domain.errors import OncoError


class PaperChapters:
    """What the day leaves on paper and in Excel."""

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
