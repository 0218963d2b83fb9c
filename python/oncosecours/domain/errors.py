"""The one user-facing error type: every shell (CLI, ribbon) shows ``str(error)`` and nothing else.

Messages are in French and say what is wrong and where (field, or file/line/column/step).
"""

from __future__ import annotations


class OncoError(Exception):
    """A refusal the user can act on. Raising it means nothing was written."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
        step: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.field = field
        self.rule = rule
        self.file = file
        self.line = line
        self.column = column
        self.step = step
        self.hint = hint
        super().__init__(self.__str__())

    def where(self) -> str:
        """The place of the problem, in French, or an empty string."""
        parts = []
        if self.file:
            parts.append(f"fichier « {self.file} »")
        if self.line is not None:
            parts.append(f"ligne {self.line}")
        if self.column:
            parts.append(f"colonne « {self.column} »")
        if self.step:
            parts.append(f"étape « {self.step} »")
        if self.field:
            parts.append(f"champ « {self.field} »")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = self.message
        where = self.where()
        if where:
            text = f"{text} ({where})"
        if self.rule:
            text = f"[{self.rule}] {text}"
        if self.hint:
            text = f"{text}. {self.hint}"
        return text

    def to_dict(self) -> dict:
        """JSON form for ``--json`` output and the ribbon's message box."""
        return {
            "erreur": str(self),
            "message": self.message,
            "champ": self.field,
            "regle": self.rule,
            "fichier": self.file,
            "ligne": self.line,
            "colonne": self.column,
            "etape": self.step,
            "conseil": self.hint,
        }
