"""Entry point of every ribbon button: ``RunPython "import oncosecours.excel.ribbon as r; r.run('tag')"``.

A fresh Python process runs for each click, so this module imports only the registry; the
handler of the clicked button (and the service it calls) is imported on demand. A refusal is shown
as a French message box, an unexpected error too (the technical detail goes to a log file);
never a traceback.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from datetime import datetime
from pathlib import Path

from oncosecours.domain.errors import OncoError
from oncosecours.excel.registry import BY_TAG

AUTH_CELL = "auth"
LOG_NAME = "oncosecours-erreurs.log"


def handler_for(tag: str):
    spec = BY_TAG.get(tag)
    if spec is None:
        raise OncoError(f"Bouton inconnu : « {tag} »", field="ruban")
    module_name, function = spec.handler.split(":")
    module = importlib.import_module(f"oncosecours.excel.actions.{module_name}")
    return spec, getattr(module, function)


def run(tag: str, book=None) -> None:
    """Run the action of one ribbon button on the calling workbook (or ``book``, an XlBook)."""
    try:
        if book is None:
            from oncosecours.excel.xlbook import caller

            book = caller()
    except Exception as exc:  # no workbook to talk to: xlwings shows stderr in a message box
        print(
            f"OncoSecours : impossible de joindre le classeur Excel ({type(exc).__name__}). "
            "Rien n'a été enregistré.",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    execute(tag, book)


def execute(tag: str, book) -> str | None:
    """The action with its feedback; returns the confirmation message (None if refused).

    The second copy made after each committed write uses the workbook's settings; when it failed,
    the confirmation says so (status bar, « Dernière action » and a message box)."""
    from oncosecours.excel.context import Context
    from oncosecours.store import replica

    ctx = Context(book)
    message = None
    replica.take_pending_warning()  # only this action's copies are reported below
    saved = replica.use_settings(_WorkbookSettings(ctx))
    try:
        spec, handler = handler_for(tag)
        book.status(f"OncoSecours : {spec.label}…")
        message = handler(ctx)
        warning = replica.take_pending_warning()
        if warning:
            message = f"{message} — {COPY_NOT_MADE}"
        _remember(ctx, message, ok=True)
        book.protect_all()
        book.status(f"OncoSecours : {message}")
        if warning:
            book.alert(f"{message}\n\n{warning}", title=COPY_ALERT_TITLE, critical=True)
    except OncoError as error:
        _remember(ctx, f"refusé : {error}", ok=False)
        _safe(book.protect_all)
        _safe(lambda: book.status(None))
        book.alert(
            f"Refusé : {error}" + _copy_warning(replica),
            title="OncoSecours — action refusée",
            critical=True,
        )
    except Exception:
        where = _log(ctx)
        _safe(book.protect_all)
        _safe(lambda: book.status(None))
        book.alert(
            UNEXPECTED
            + (f"\nDétail technique dans {where}." if where else "")
            + _copy_warning(replica),
            title="OncoSecours — erreur",
            critical=True,
        )
    finally:
        replica.use_settings(saved)
        ctx.close()
    return message


UNEXPECTED = (
    "Erreur inattendue : l'action en cours n'a pas pu se terminer ; vérifier son état (bouton "
    "« Journal », feuille Accueil) avant de la refaire."
)
"""Honest: the failure may come after the commit (the action is then recorded)."""
COPY_NOT_MADE = "ATTENTION : copie de secours NON FAITE (voir Accueil)"
COPY_ALERT_TITLE = "OncoSecours — copie de secours non faite"


class _WorkbookSettings:
    """The workbook's settings (``etablissement.toml`` beside it) for the after-commit copy,
    parsed only when first needed (by a committed write or the Accueil copy line)."""

    def __init__(self, ctx) -> None:
        self._ctx = ctx

    def __getitem__(self, section: str):
        return self._ctx.settings[section]

    @property
    def source(self):
        return self._ctx.settings.source


def _copy_warning(replica) -> str:
    """A copy that failed before a refusal or an error (a write was committed): said too."""
    warning = replica.take_pending_warning()
    return f"\n\n{warning}" if warning else ""


def _remember(ctx, message: str, *, ok: bool) -> None:
    """Accueil's « Dernière action » and « Copie de secours » lines, and the identification
    result for the VBA module."""

    def copy_line() -> None:
        from oncosecours.excel.views import copy_fields

        fields = copy_fields(_WorkbookSettings(ctx), ctx.store_path)
        ctx.book.write_fields(ctx.layout.sheet("Accueil"), fields)

    def write() -> None:
        stamp = datetime.now().strftime("%d/%m/%Y %H:%M")
        who = ctx.initials or "?"
        fields = {"derniere_action": f"{stamp} — {who} — {message}"}
        if ctx._actor is not None:
            actor = ctx._actor
            fields["nom_utilisateur"] = f"{actor.initials} — {actor.name} ({actor.role})"
        ctx.book.write_fields(ctx.layout.sheet("Accueil"), fields)
        auth = "refuse" if ctx.auth_failed else ("ok" if ctx._actor is not None else None)
        if auth:
            ctx.book.write_fields(ctx.layout.sheet("Paramètres"), {AUTH_CELL: auth})

    _safe(write)
    _safe(copy_line)


def _safe(step) -> None:
    try:
        step()
    except Exception:
        pass


def _log(ctx) -> Path | None:
    """Append the traceback to a log beside the workbook (else in the home folder)."""
    text = f"{datetime.now().isoformat(timespec='seconds')}\n{traceback.format_exc()}\n"
    candidates = []
    try:
        candidates.append(ctx.book.folder / LOG_NAME)
    except Exception:
        pass
    candidates.append(Path.home() / f".{LOG_NAME}")
    for path in candidates:
        try:
            with path.open("a", encoding="utf-8") as handle:
                handle.write(text)
            return path
        except OSError:
            continue
    return None
