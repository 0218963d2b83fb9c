"""The public contract of ``oncosecours.dosing``: names, stdlib-only domain, light import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import oncosecours.dosing as dosing

DOMAIN = Path(dosing.__file__).resolve().parent / "domain"
ENGINE_MODULES = ("dosing", "banding", "compounding", "cumulative", "findings")

CONTRACT = (
    "body_surface_area",
    "cockcroft_gault",
    "ckd_epi",
    "mdrd",
    "calvert_dose",
    "chatelut_clearance",
    "Adjustment",
    "PatientMeasures",
    "DosingRules",
    "LineSpec",
    "LineDose",
    "line_dose",
    "dose_deviation_pct",
    "rules_from_settings",
    "BandTable",
    "cumulative_check",
    "plan_compounding",
    "CompoundingPlan",
    "Finding",
)


def test_contract_names_are_exported():
    for name in CONTRACT:
        assert name in dosing.__all__, name
    for name in dosing.__all__:
        assert getattr(dosing, name) is not None, name


def test_line_dose_keeps_the_agreed_signature():
    import inspect

    parameters = list(inspect.signature(dosing.line_dose).parameters)
    assert parameters == ["line", "patient", "rules", "reduction_pct", "reduction_reason"]
    fields = [f for f in dosing.LineDose.__dataclass_fields__]
    assert fields[:6] == ["theoretical", "dose", "unit", "basis", "basis_value", "adjustments"]
    assert list(dosing.Adjustment.__dataclass_fields__) == [
        "rule",
        "message",
        "before",
        "after",
        "unit",
    ]


def test_engine_modules_import_only_the_standard_library():
    allowed = set(sys.stdlib_module_names) | {"oncosecours"}
    for name in ENGINE_MODULES:
        tree = ast.parse((DOMAIN / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = [node.module.split(".")[0]]
            else:
                continue
            for root in roots:
                assert root in allowed, f"{name}.py importe {root}"
                if root == "oncosecours":
                    module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                    assert module.startswith("oncosecours.domain"), f"{name}.py importe {module}"


def test_import_is_light():
    # No timing here (benchmarks are not tests): the import must not drag heavy modules in.
    code = (
        "import sys, oncosecours.dosing as d;"
        "heavy = [m for m in ('pandas', 'numpy', 'sqlite3', 'openpyxl', 'oncosecours.settings',"
        " 'oncosecours.domain.compounding', 'oncosecours.domain.cumulative') if m in sys.modules];"
        "print(heavy);"
        "d.plan_compounding; print('oncosecours.domain.compounding' in sys.modules)"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert output[0] == "[]"
    assert output[1] == "True"  # loaded on first use
