"""The documented context of each template (``templates/champs.toml``), as a tree.

The TOML file is the contract between the data (``documents.context``, ``documents.samples``)
and the Word templates edited by quality staff: the checker refuses any variable of a template
that is not in it, and :func:`problems` refuses any context that does not match it exactly.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.resources import shipped

CONTRACT_FILE = "champs.toml"
KINDS = (
    "fabrication",
    "etiquette",
    "plan_de_soins",
    "ordonnancier",
    "qualification",
    "dossier_patient",
)
"""Template kinds, in the order of ``champs.toml``."""

IMAGE = "image"
TEXT = "texte"
LIST = "liste"
LINES = "lignes"
TYPES = (TEXT, IMAGE, LIST, LINES)


@dataclass
class Node:
    """A field: a leaf (texte / image), an object (children), or a list of items."""

    kind: str  # "objet", "texte", "image", "liste", "lignes"
    meaning: str = ""
    example: str = ""
    children: dict[str, Node] = field(default_factory=dict)
    item: Node | None = None  # for liste / lignes

    def child(self, name: str) -> Node | None:
        return self.children.get(name) if self.kind == "objet" else None


@dataclass
class Template:
    kind: str
    file: str
    title: str
    unit: str
    note: str
    fields: list[dict[str, str]]  # own fields (without the common ones)
    root: Node  # common + own fields
    same_as: str | None = None


@dataclass
class Contract:
    common: list[dict[str, str]]
    common_note: str
    common_root: Node
    templates: dict[str, Template]
    source: Path

    def template(self, kind: str) -> Template:
        try:
            return self.templates[kind]
        except KeyError:
            raise OncoError(
                f"Modèle inconnu « {kind} » (modèles : {', '.join(self.templates)})"
            ) from None

    def by_file(self, filename: str) -> Template | None:
        for template in self.templates.values():
            if template.file.lower() == filename.lower():
                return template
        return None


def _add(root: Node, entry: dict[str, str], source: Path) -> None:
    name = entry.get("nom", "")
    kind = entry.get("type", "")
    if kind not in TYPES:
        raise OncoError(f"Type inconnu « {kind} » pour le champ « {name} »", file=str(source))
    parts = name.split(".")
    node = root
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        is_list = part.endswith("[]")
        key = part[:-2] if is_list else part
        if not key.isidentifier():
            raise OncoError(f"Nom de champ invalide « {name} »", file=str(source))
        if node.kind in (LIST, LINES):
            node = node.item
        if node is None or node.kind != "objet":
            raise OncoError(f"« {name} » : le parent n'est pas un objet", file=str(source))
        existing = node.children.get(key)
        if last:
            if existing is not None:
                raise OncoError(f"Champ « {name} » décrit deux fois", file=str(source))
            if is_list:
                item = Node(TEXT) if kind == LINES else Node("objet")
                node.children[key] = Node(
                    kind, entry.get("sens", ""), entry.get("exemple", ""), item=item
                )
            else:
                node.children[key] = Node(kind, entry.get("sens", ""), entry.get("exemple", ""))
            return
        if existing is None:
            if is_list:
                raise OncoError(
                    f"« {name} » : la liste « {key}[] » doit être décrite avant ses champs",
                    file=str(source),
                )
            existing = node.children[key] = Node("objet")
        node = existing


def load(path: str | Path | None = None) -> Contract:
    """Read and check the contract (default: the shipped ``templates/champs.toml``)."""
    source = Path(path) if path else shipped("templates", CONTRACT_FILE)
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OncoError("Fichier des champs des modèles introuvable", file=str(source)) from None
    except tomllib.TOMLDecodeError as exc:
        raise OncoError(f"Fichier des champs illisible : {exc}", file=str(source)) from None
    common = raw.get("commun", {})
    common_root = Node("objet")
    for entry in common.get("champs", []):
        _add(common_root, entry, source)
    templates: dict[str, Template] = {}
    for kind, spec in raw.get("modeles", {}).items():
        same_as = spec.get("memes_champs_que")
        own = list(spec.get("champs", []))
        templates[kind] = Template(
            kind=kind,
            file=spec["fichier"],
            title=spec.get("titre", kind),
            unit=spec.get("unite", ""),
            note=spec.get("note", ""),
            fields=own,
            root=Node("objet"),
            same_as=same_as,
        )
    for template in templates.values():
        fields = template.fields
        if template.same_as:
            fields = templates[template.same_as].fields
        for entry in [*common.get("champs", []), *fields]:
            _add(template.root, entry, source)
    return Contract(
        common=list(common.get("champs", [])),
        common_note=common.get("note", ""),
        common_root=common_root,
        templates=templates,
        source=source,
    )


_CACHE: dict[Path, tuple[float, Contract]] = {}


def cached(path: str | Path | None = None) -> Contract:
    """:func:`load`, re-read only when the file changed."""
    source = Path(path) if path else shipped("templates", CONTRACT_FILE)
    mtime = source.stat().st_mtime if source.exists() else 0.0
    hit = _CACHE.get(source)
    if hit and hit[0] == mtime:
        return hit[1]
    contract = load(source)
    _CACHE[source] = (mtime, contract)
    return contract


def problems(node: Node, value: Any, where: str = "", *, images: bool = False) -> list[str]:
    """Every mismatch between a context and the contract (empty list = conforming).

    Images are injected by the renderer: with ``images=False`` they must be absent.
    """
    found: list[str] = []
    if node.kind == "objet":
        if not isinstance(value, dict):
            return [f"{where or 'contexte'} : objet attendu, reçu {type(value).__name__}"]
        for key, child in node.children.items():
            path = f"{where}.{key}" if where else key
            if child.kind == IMAGE and not images:
                if key in value:
                    found.append(f"{path} : image fournie par le moteur, pas par les données")
                continue
            if key not in value:
                found.append(f"{path} : champ manquant")
                continue
            found.extend(problems(child, value[key], path, images=images))
        for key in value:
            if key not in node.children:
                path = f"{where}.{key}" if where else key
                found.append(f"{path} : champ non documenté dans {CONTRACT_FILE}")
    elif node.kind in (LIST, LINES):
        if not isinstance(value, list):
            return [f"{where} : liste attendue, reçu {type(value).__name__}"]
        for index, item in enumerate(value):
            found.extend(problems(node.item, item, f"{where}[{index}]", images=images))
    elif node.kind == TEXT:
        if not isinstance(value, str):
            found.append(f"{where} : texte attendu, reçu {type(value).__name__} « {value} »")
    elif node.kind == IMAGE:
        if value is not None and not hasattr(value, "__html__") and value != "":
            found.append(f"{where} : image attendue")
    return found


def flat_names(node: Node, prefix: str = "") -> list[str]:
    """All documented names (``patient.nom``, ``produits[].nom``), for suggestions."""
    names: list[str] = []
    for key, child in node.children.items():
        path = f"{prefix}.{key}" if prefix else key
        if child.kind in (LIST, LINES):
            names.append(path + "[]")
            if child.item is not None and child.item.kind == "objet":
                names.extend(flat_names(child.item, path + "[]"))
        elif child.kind == "objet":
            names.extend(flat_names(child, path))
        else:
            names.append(path)
    return names
