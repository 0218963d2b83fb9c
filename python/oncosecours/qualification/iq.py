"""Installation qualification (IQ): what is installed on this PC, against the kit's manifest.

Items that only exist on Windows (Windows itself, Excel through COM, the Defender ASR rule read
with ``winreg``) are "non applicable" elsewhere, with the reason: never a pass by default.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from oncosecours.kit import manifest as kit_manifest
from oncosecours.qualification.items import (
    CONFORME,
    CONSTAT,
    NON_APPLICABLE,
    NON_CONFORME,
    NON_VERIFIABLE,
    Item,
    check,
)

PHASE = "IQ"
ASR_KEY = r"SOFTWARE\Policies\Microsoft\Windows Defender\Windows Defender Exploit Guard\ASR\Rules"
ASR_OFFICE_CHILD = "d4f940ab-401b-4efc-aadc-ad5f3c50688a"
"""« Block all Office applications from creating child processes » (Microsoft Defender ASR)."""
ASR_STATES = {
    0: ("désactivée", "RunPython autorisé : les boutons du ruban peuvent lancer Python"),
    1: (
        "BLOQUE (1)",
        "Excel ne peut pas lancer Python : chaque bouton échouera (erreur 70) ; utiliser la "
        "commande « oncosecours » (guide rapide) ou demander une exclusion à la DSI",
    ),
    2: ("audit (2)", "RunPython autorisé mais journalisé par Defender"),
    6: ("avertissement (6)", "l'utilisateur doit confirmer à chaque lancement de Python"),
}
NOT_WINDOWS = "poste non Windows ({system}) : OncoSecours s'utilise sous Windows avec Excel"
PROBE = ".oncosecours-qualification-essai"


def is_windows() -> bool:
    return sys.platform == "win32"


def _windows() -> Item:
    title = "Système d'exploitation"
    if not is_windows():
        return Item(
            "IQ-01",
            PHASE,
            title,
            "Windows 10 ou 11",
            platform.platform(),
            NON_APPLICABLE,
            NOT_WINDOWS.format(system=platform.system()),
        )
    release, version, *_ = platform.win32_ver()
    return check(
        "IQ-01", PHASE, title, "Windows 10 ou 11", f"Windows {release} ({version})",
        release in ("10", "11"),
    )  # fmt: skip


def excel_version() -> str | None:
    """Excel's version through COM (pywin32), or None when Excel cannot be reached."""
    try:
        import win32com.client  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        app = win32com.client.DispatchEx("Excel.Application")
    except Exception:
        return None
    try:
        return str(app.Version)
    finally:
        try:
            app.Quit()
        except Exception:
            pass


def _excel() -> Item:
    title = "Microsoft Excel (COM)"
    expected = "16.0 ou plus récent (ruban customUI 2009/07, macros VBA)"
    if not is_windows():
        return Item(
            "IQ-02", PHASE, title, expected, "—", NON_APPLICABLE,
            NOT_WINDOWS.format(system=platform.system()),
        )  # fmt: skip
    version = excel_version()
    if version is None:
        return Item(
            "IQ-02", PHASE, title, expected, "Excel injoignable par COM", NON_VERIFIABLE,
            "pywin32 absent ou Excel non installé : lancer OncoSecoursAutoTest dans Excel",
        )  # fmt: skip
    try:
        ok = float(version.split(".")[0]) >= 16
    except ValueError:
        ok = False
    return check("IQ-02", PHASE, title, expected, f"Excel {version}", ok)


def _python(manifest: dict[str, Any]) -> Item:
    wanted = str(manifest.get("python") or "")
    seen = platform.python_version()
    return check(
        "IQ-03", PHASE, "Version de Python", f"Python {wanted}.x (manifeste du kit)",
        f"Python {seen} ({sys.executable})", seen.split(".")[:2] == wanted.split(".")[:2],
        source="MANIFESTE.json « python »",
    )  # fmt: skip


def _packages(manifest: dict[str, Any]) -> list[Item]:
    items = []
    for index, (name, wanted) in enumerate(sorted(manifest.get("paquets", {}).items()), start=1):
        ref = f"IQ-04.{index:02d}"
        title = f"Paquet {name}"
        try:
            seen = metadata.version(name)
        except metadata.PackageNotFoundError:
            seen = None
        if seen is None and name in ("pywin32", "pywin32-ctypes") and not is_windows():
            items.append(
                Item(
                    ref, PHASE, title, wanted, "absent", NON_APPLICABLE, "paquet propre à Windows"
                )  # fmt: skip
            )
            continue
        items.append(
            check(
                ref,
                PHASE,
                title,
                wanted,
                seen or "absent",
                seen == wanted,
                source="MANIFESTE.json « paquets » (roues du kit)",
            )  # fmt: skip
        )
    return items


def _short(digest: str | None) -> str:
    return f"SHA-256 {digest[:16]}…" if digest else "absent"


def _files(kit: Path, manifest: dict[str, Any]) -> list[Item]:
    listed: dict[str, str] = manifest["fichiers"]
    items: list[Item] = []
    wheels_bad: list[str] = []
    count = 0
    for relative, wanted in sorted(listed.items()):
        path = kit / relative
        seen = kit_manifest.sha256_file(path) if path.is_file() else None
        if relative.startswith("wheelhouse/"):
            count += 1
            if seen != wanted:
                wheels_bad.append(f"{relative} ({'absent' if seen is None else 'modifié'})")
            continue
        if relative == kit_manifest.WORKBOOK_NAME:
            continue  # by its code and ribbon below (the installer writes into the workbook)
        reason = "" if seen == wanted else (
            "fichier absent du poste" if seen is None else
            "modifié depuis le kit : écart à justifier (maîtrise des changements) puis requalifier"
        )  # fmt: skip
        items.append(
            check(
                f"IQ-05.{len(items) + 1:02d}",
                PHASE,
                f"Fichier {relative}",
                _short(wanted),
                _short(seen),
                seen == wanted,
                reason=reason,
                source="MANIFESTE.json",
            )  # fmt: skip
        )
    for path in kit_manifest.watched_files(kit):
        relative = path.relative_to(kit).as_posix()
        if relative not in listed:
            items.append(
                Item(
                    f"IQ-05.{len(items) + 1:02d}",
                    PHASE,
                    f"Fichier {relative}",
                    "absent du kit",
                    _short(kit_manifest.sha256_file(path)),
                    NON_CONFORME,
                    "fichier ajouté après la construction du kit",
                )  # fmt: skip
            )
    if count:
        items.append(
            check(
                "IQ-06",
                PHASE,
                f"Roues Python du kit (wheelhouse, {count} fichiers)",
                "sommes SHA-256 du manifeste",
                "; ".join(wheels_bad) or "toutes identiques",
                not wheels_bad,
                source="MANIFESTE.json",
            )  # fmt: skip
        )
    return items


def _workbook(kit: Path, manifest: dict[str, Any]) -> list[Item]:
    wanted: dict[str, str] = manifest.get("classeur") or {}
    path = kit / kit_manifest.WORKBOOK_NAME
    title = "Classeur OncoSecours.xlsm"
    if not path.is_file():
        return [Item("IQ-07", PHASE, title, "présent", "absent", NON_CONFORME, str(path))]
    try:
        seen = kit_manifest.workbook_fingerprint(path)
    except Exception as exc:  # an unreadable workbook is a finding, not a crash
        return [Item("IQ-07", PHASE, title, "lisible", str(exc), NON_CONFORME)]
    items = []
    for index, name in enumerate(sorted(set(wanted) | set(seen)), start=1):
        label = name.replace("vba:", "module VBA ").replace("ruban:", "ruban ")
        items.append(
            check(
                f"IQ-07.{index:02d}",
                PHASE,
                f"Classeur : {label}",
                _short(wanted.get(name)),
                _short(seen.get(name)),
                wanted.get(name) == seen.get(name),
                source="MANIFESTE.json « classeur »",
            )  # fmt: skip
        )
    return items


def _second_medium(settings, kit: Path) -> Item:
    title = "Second support de la copie de secours (écriture)"
    folder = str(settings["copie_secours"]["dossier"] or "").strip()
    expected = "dossier [copie_secours] configuré, inscriptible, relu à l'identique"
    if not folder:
        return Item(
            "IQ-08",
            PHASE,
            title,
            expected,
            "aucun dossier configuré",
            NON_CONFORME,
            "renseigner [copie_secours] dossier dans etablissement.toml (CSP R5132-9)",
        )
    target = Path(folder)
    if not target.is_absolute():
        target = kit / target
    probe = target / PROBE
    payload = os.urandom(64)
    try:
        target.mkdir(parents=True, exist_ok=True)
        with probe.open("wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        same = probe.read_bytes() == payload
        probe.unlink()
    except OSError as exc:
        return Item(
            "IQ-08",
            PHASE,
            title,
            expected,
            f"{target} : {exc.strerror or exc}",
            NON_CONFORME,
            "support absent, plein ou en lecture seule",
        )
    import shutil

    free = shutil.disk_usage(target).free // (1024 * 1024)
    return check("IQ-08", PHASE, title, expected,
                 f"{target} : écrit et relu, {free} Mo libres", same)  # fmt: skip


def _libreoffice() -> Item:
    from oncosecours.documents.pdf import soffice

    found = soffice()
    return Item(
        "IQ-09", PHASE, "LibreOffice (conversion PDF)", "présent ou absent (constat)",
        f"présent : {found}" if found else "absent",
        CONSTAT,
        "PDF possibles" if found else "PDF impossibles : imprimer les .docx depuis Word",
    )  # fmt: skip


def read_asr_state() -> int | None:
    """The ASR rule's configured value, or None when it is not set (Windows only)."""
    import winreg  # type: ignore[import-not-found]

    try:
        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, ASR_KEY) as key:
            value, _kind = winreg.QueryValueEx(key, ASR_OFFICE_CHILD)
    except FileNotFoundError:
        return None
    return int(value)


def _asr() -> Item:
    title = "Règle ASR Defender « Office ne crée pas de processus enfants »"
    expected = f"état de la règle {ASR_OFFICE_CHILD} (constat)"
    if not is_windows():
        return Item(
            "IQ-10",
            PHASE,
            title,
            expected,
            "—",
            NON_APPLICABLE,
            NOT_WINDOWS.format(system=platform.system()),
        )
    try:
        state = read_asr_state()
    except OSError as exc:
        return Item(
            "IQ-10",
            PHASE,
            title,
            expected,
            f"registre illisible ({exc})",
            NON_VERIFIABLE,
            "demander l'état de la règle à la DSI (stratégie de groupe)",
        )
    if state is None:
        return Item(
            "IQ-10",
            PHASE,
            title,
            expected,
            "non configurée",
            CONSTAT,
            "RunPython autorisé par cette règle",
        )
    shown, meaning = ASR_STATES.get(state, (f"valeur {state}", "valeur inconnue"))
    return Item("IQ-10", PHASE, title, expected, shown, CONSTAT, meaning)


def _register(settings) -> Item:
    """Where this workstation's register is: a file of its own, or the unit's server, which
    must answer with the settings as written (a connection that reads, never writes)."""
    from oncosecours.domain.errors import OncoError
    from oncosecours.store.engines import POSTGRESQL, engine_of

    title = "Registre : moteur et serveur"
    if engine_of(settings) != POSTGRESQL:
        return Item(
            "IQ-11", PHASE, title, "moteur de [base] (constat)",
            "SQLite : un seul poste, le registre est un fichier à côté du classeur", CONSTAT,
        )  # fmt: skip
    expected = "serveur PostgreSQL de [base] joignable avec le mot de passe du poste"
    try:
        from oncosecours.server.probe import answer_of_settings

        found = answer_of_settings(settings)
    except OncoError as refused:
        return check("IQ-11", PHASE, title, expected, str(refused), False)
    return check("IQ-11", PHASE, title, expected, found.line(), found.ok,
                 reason="" if found.ok else "poste à relier au serveur avant la crise")  # fmt: skip


def run_iq(kit: Path, settings) -> list[Item]:
    """Every IQ item; a missing or unreadable manifest is itself a failing item."""
    items = [_windows(), _excel()]
    try:
        manifest = kit_manifest.read_manifest(kit)
    except Exception as exc:
        items.append(
            Item(
                "IQ-00",
                PHASE,
                "Manifeste du kit",
                "MANIFESTE.json lisible",
                str(exc),
                NON_CONFORME,
                "le kit doit venir de « oncosecours kit »",
            )
        )
        manifest = None
    if manifest is not None:
        items.append(
            check(
                "IQ-00",
                PHASE,
                "Manifeste du kit",
                "MANIFESTE.json lisible",
                f"kit du {manifest.get('cree_le', '?')}, OncoSecours "
                f"{manifest.get('oncosecours', '?')}",
                True,
            )
        )
        items += [_python(manifest), *_packages(manifest), *_files(kit, manifest)]
        items += _workbook(kit, manifest)
    items += [_second_medium(settings, kit), _libreoffice(), _asr(), _register(settings)]
    return items


__all__ = ["run_iq", "CONFORME"]
