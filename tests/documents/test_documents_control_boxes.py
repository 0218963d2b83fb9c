"""The fiche de fabrication's control boxes follow the recorded control: ☐ until the control is
recorded, ☒ contrôle visuel once it is, ☒ double contrôle when a second person is recorded."""

from __future__ import annotations

import datetime as dt

from documents_helpers import docx_text

from oncosecours.documents import render

NOW = dt.datetime(2026, 3, 2, 11, 0)
NOT_DONE = "☐ contrôle visuel  ☐ double contrôle"
VISUAL = "☒ contrôle visuel  ☐ double contrôle"
BOTH = "☒ contrôle visuel  ☒ double contrôle"


def _boxes(conn, number, settings, folder) -> str:
    result = render.render_preparations(
        conn, [number], "fabrication", folder, settings, pdf=False, now=NOW
    )
    (path,) = result.docx
    lines = [line for line in docx_text(path).splitlines() if "contrôle visuel" in line]
    assert len(lines) == 1, lines
    return lines[0].strip()


def test_boxes_are_empty_until_the_control_is_recorded(day_conn, day_store, settings, tmp_path):
    from oncosecours.services.release import control_preparation
    from oncosecours.services.users import authenticate

    number = day_store["numbers"]["ndiaye"][0]  # prepared, lots recorded, not controlled
    assert _boxes(day_conn, number, settings, tmp_path / "avant") == NOT_DONE

    weight = day_conn.execute(
        "SELECT target_weight_g FROM preparations WHERE ord_number = ?", (number,)
    ).fetchone()[0]
    control_preparation(
        day_conn,
        authenticate(day_conn, "PR2", "4826"),
        number,
        weight,
        visual_ok=True,
        double_checker="PH1",
        now=NOW,
    )
    text = _boxes(day_conn, number, settings, tmp_path / "apres")
    assert text.startswith(BOTH)


def test_control_without_a_second_person_ticks_only_the_visual_box(
    day_conn, day_store, settings, tmp_path
):
    # controlled by PR2 with no double checker, then released
    assert _boxes(day_conn, day_store["released"], settings, tmp_path).startswith(VISUAL)
