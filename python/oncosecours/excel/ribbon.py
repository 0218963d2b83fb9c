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
    """The action with its feedback; returns the confirmation message (None if refused)."""
    from oncosecours.excel.context import Context

    ctx = Context(book)
    message = None
    try:
        spec, handler = handler_for(tag)
        book.status(f"OncoSecours : {spec.label}…")
        message = handler(ctx)
        _remember(ctx, message, ok=True)
        book.protect_all()
        book.status(f"OncoSecours : {message}")
    except OncoError as error:
        _remember(ctx, f"refusé : {error}", ok=False)
        _safe(book.protect_all)
        _safe(lambda: book.status(None))
        book.alert(f"Refusé : {error}", title="OncoSecours — action refusée", critical=True)
    except Exception:
        where = _log(ctx)
        _safe(book.protect_all)
        _safe(lambda: book.status(None))
        book.alert(
            "Erreur inattendue : rien n'a été enregistré par l'action en cours."
            + (f"\nDétail technique dans {where}." if where else ""),
            title="OncoSecours — erreur",
            critical=True,
        )
    finally:
        ctx.close()
    return message


def _remember(ctx, message: str, *, ok: bool) -> None:
    """Accueil's « Dernière action » line, and the identification result for the VBA module."""

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
