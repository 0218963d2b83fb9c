"""States of a cure and of a preparation, and the transitions the circuit allows.

A forbidden transition (a second validation, preparing before the go-ahead, dispensing an
unreleased bag...) is refused here, with rule ``TRANSITION`` and the states in French.
"""

from __future__ import annotations

from oncosecours.domain.errors import OncoError

# Cure (one cycle of a patient's protocol), prescribed and validated as a whole.
CURE_STATES = {
    "planned": "planifiée",
    "prescribed": "prescrite",
    "validated": "validée",
    "refused": "refusée",
    "go_ahead": "feu vert",
    "withheld": "feu vert refusé",
    "cancelled": "annulée",
}
CURE_TRANSITIONS: dict[str, frozenset[str]] = {
    "planned": frozenset({"prescribed", "cancelled"}),
    "prescribed": frozenset({"validated", "refused", "cancelled"}),
    "refused": frozenset({"prescribed", "cancelled"}),
    "validated": frozenset({"go_ahead", "withheld", "cancelled"}),
    "withheld": frozenset({"go_ahead", "cancelled"}),
    "go_ahead": frozenset({"withheld", "cancelled"}),  # withheld: go-ahead withdrawn
    "cancelled": frozenset(),
}

# Preparation (one bag, one prescribed line), from the hood to the patient.
PREPARATION_STATES = {
    "prepared": "préparée",
    "controlled": "contrôlée",
    "released": "libérée",
    "rejected": "refusée à la libération",
    "dispensed": "dispensée",
    "administered": "administrée",
    "cancelled": "annulée",
}
PREPARATION_TRANSITIONS: dict[str, frozenset[str]] = {
    "prepared": frozenset({"controlled", "cancelled"}),
    "controlled": frozenset({"released", "rejected", "cancelled"}),
    "released": frozenset({"dispensed", "cancelled"}),
    "rejected": frozenset(),
    "dispensed": frozenset({"administered"}),
    "administered": frozenset(),
    "cancelled": frozenset(),
}

DAY_STATES_FR = {
    **{state: CURE_STATES[state] for state in ("planned", "prescribed", "refused", "validated")},
    "withheld": CURE_STATES["withheld"],
    "go_ahead": CURE_STATES["go_ahead"],
    **{
        state: PREPARATION_STATES[state]
        for state in ("prepared", "controlled", "released", "dispensed", "administered")
    },
    "cancelled": CURE_STATES["cancelled"],
}
"""The state of a line on the day's view, in circuit order: its cure's, then its bag's."""

_MACHINES = {
    "cure": (CURE_STATES, CURE_TRANSITIONS),
    "preparation": (PREPARATION_STATES, PREPARATION_TRANSITIONS),
}


def label(kind: str, state: str) -> str:
    """French label of a state (``label("cure", "go_ahead") == "feu vert"``)."""
    return _MACHINES[kind][0][state]


def allowed(kind: str, current: str, target: str) -> bool:
    return target in _MACHINES[kind][1].get(current, frozenset())


def require_transition(kind: str, current: str, target: str, what: str) -> None:
    """Refuse unless ``current -> target`` is allowed; ``what`` names the entity in French."""
    if allowed(kind, current, target):
        return
    states = _MACHINES[kind][0]
    if current == target:
        message = f"{what} est déjà « {states[current]} » : action déjà faite (double clic ?)"
    else:
        message = (
            f"{what} est « {states[current]} » : impossible de la passer à « {states[target]} »"
        )
    raise OncoError(message, rule="TRANSITION")
