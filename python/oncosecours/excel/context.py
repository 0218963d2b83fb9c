"""What a ribbon action knows: the workbook, its store, its settings, who clicked, which day.

Built lazily: an action that only reads the journal never derives a PIN hash, an action that
never needs settings never parses them.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.excel import cells
from oncosecours.excel.layout import Layout, load_layout
from oncosecours.excel.xlbook import XlBook

USER_ENV = "ONCOSECOURS_USER"
PIN_ENV = "ONCOSECOURS_PIN"
STORE_ENV = "ONCOSECOURS_STORE"
SETTINGS_FILE = "etablissement.toml"
DEFAULT_STORE = "oncosecours.sqlite"


class Context:
    def __init__(self, book: XlBook, layout: Layout | None = None) -> None:
        self.book = book
        self.layout = layout or load_layout()
        self._conn: sqlite3.Connection | None = None
        self._actor = None
        self._settings = None
        self._params: dict[str, Any] | None = None
        self._home: dict[str, Any] | None = None
        self.auth_failed = False
        self.refreshed: list[str] = []

    # --- workbook cells read once -----------------------------------------------------------

    @property
    def params(self) -> dict[str, Any]:
        if self._params is None:
            self._params = self.book.read_fields(self.layout.sheet("Paramètres"), ["base"])
        return self._params

    @property
    def home(self) -> dict[str, Any]:
        if self._home is None:
            self._home = self.book.read_fields(
                self.layout.sheet("Accueil"), ["utilisateur", "jour"]
            )
        return self._home

    # --- store and settings -----------------------------------------------------------------

    @property
    def store_path(self) -> Path:
        """The store named in Paramètres (relative to the workbook), else $ONCOSECOURS_STORE,
        else ``oncosecours.sqlite`` beside the workbook."""
        named = cells.as_text(self.params.get("base"))
        if named:
            path = Path(named)
            return path if path.is_absolute() else self.book.folder / path
        env = os.environ.get(STORE_ENV)
        return Path(env) if env else self.book.folder / DEFAULT_STORE

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            from oncosecours.store.db import connect, store_exists

            path = self.store_path
            if not store_exists(path):  # a wrong path is refused, never a new empty store
                raise OncoError(
                    f"Base introuvable : {path}",
                    hint="Vérifier la base indiquée dans la feuille Paramètres (un chemin relatif "
                    "part du dossier du classeur) ; pour créer une base : oncosecours user init",
                )
            self._conn = connect(path, create=False)
        return self._conn

    @property
    def settings_path(self) -> Path | None:
        beside = self.book.folder / SETTINGS_FILE
        if beside.exists():
            return beside
        env = os.environ.get("ONCOSECOURS_SETTINGS")
        return Path(env) if env else None

    @property
    def settings(self):
        if self._settings is None:
            from oncosecours.settings import load_settings

            self._settings = load_settings(self.settings_path)
        return self._settings

    # --- who and when -----------------------------------------------------------------------

    @property
    def initials(self) -> str:
        typed = cells.as_text(self.home.get("utilisateur")) or os.environ.get(USER_ENV) or ""
        return typed.strip().upper()

    def actor(self):
        """The authenticated user (initials from Accueil, PIN passed by the ribbon module)."""
        if self._actor is None:
            from oncosecours.services.users import authenticate

            initials = self.initials
            if not initials:
                raise OncoError(
                    "Saisissez vos initiales dans la feuille Accueil (case « Utilisateur »)",
                    field="utilisateur",
                )
            pin = os.environ.get(PIN_ENV)
            if not pin:
                raise OncoError(
                    "Code PIN absent : relancez l'action depuis le ruban OncoSecours",
                    field="PIN",
                )
            try:
                self._actor = authenticate(self.conn, initials, pin)
            except OncoError:
                self.auth_failed = True
                raise
        return self._actor

    @property
    def day(self) -> date:
        chosen = cells.as_iso_date(self.home.get("jour"))
        if chosen:
            try:
                return date.fromisoformat(chosen)
            except ValueError:
                raise OncoError(
                    f"Journée affichée illisible : « {chosen} » (attendu jj/mm/aaaa)",
                    field="journée affichée",
                ) from None
        return date.today()

    # --- writing back -----------------------------------------------------------------------

    def view_context(self):
        from oncosecours.excel.views import ViewContext

        settings_path = self.settings_path
        return ViewContext(
            day=self.day,
            settings=self.settings,
            store_label=cells.as_text(self.params.get("base")) or DEFAULT_STORE,
            settings_label=str(settings_path) if settings_path else "",
        )

    def refresh(self, *names: str, lists: bool = False) -> None:
        """Rewrite these sheets from the store, each in one block (an action that changes the
        state of the day's lines names « Accueil » too, for its counts)."""
        from oncosecours.excel import views

        wanted = list(dict.fromkeys(names))
        ctx = self.view_context()
        for name, content in views.compute(self.conn, wanted, ctx).items():
            sheet = self.layout.sheet(name)
            self.book.write_fields(sheet, content.fields)
            if content.rows is not None and sheet.table is not None:
                self.book.write_table(sheet, content.rows)
            self.refreshed.append(name)
        if lists:
            for name, values in views.lists(self.conn, ctx).items():
                if name in self.layout.lists:
                    self.book.write_list(self.layout, name, values)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
