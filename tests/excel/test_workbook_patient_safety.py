"""The workbook goes through the same services: a deceased backup patient is refused at
« Nouveau patient » (rule PATIENT_DECEDE) and nothing is written."""

from __future__ import annotations

from oncosecours.excel.layout import load_layout

DECEASED = "4444444444"


def test_new_patient_with_the_ipp_of_a_deceased_backup_patient_is_refused(station):
    conn = station.conn()
    conn.execute(
        "INSERT INTO ref_patients (patient_id, ipp, birth_name, first_name, birth_date, sex, "
        "death_date) VALUES (?, NULL, NULL, NULL, '1933-01-01', 'F', '2011-03-06')",
        (DECEASED,),
    )
    conn.close()
    station.login("DR1")
    layout = load_layout().sheet("Patients")
    for key, value in {"ipp": DECEASED, "nom_naissance": "Dupont", "prenom": "Louise"}.items():
        station.book.type("Patients", layout.field(key).cell, value)
    station.click("nouveau_patient")
    (alert,) = station.alerts()
    assert "Refusé" in alert and "PATIENT_DECEDE" in alert and "06/03/2011" in alert
    conn = station.conn()
    assert conn.execute("SELECT count(*) FROM patients").fetchone()[0] == 0
    conn.close()
