"""Public API of the dose engine (a contract: other parts and external checks import from here)."""

from oncosecours.domain.dosing import *  # noqa: F401,F403
from oncosecours.domain.dosing import (  # noqa: F401
    body_surface_area,
    calvert_dose,
    chatelut_clearance,
    ckd_epi,
    cockcroft_gault,
    mdrd,
)
