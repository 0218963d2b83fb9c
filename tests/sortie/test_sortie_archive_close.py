"""The ten-year archive (PDF/A checked, re-verified by the README's own procedure with a bare
Python, tampering found by ``sortie verify``) and the closing of the crisis (checklist, then every
write refused)."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sortie_fixtures import run_cli

pytestmark = pytest.mark.slow


def _archive(demo, *extra: str) -> Path:
    done = run_cli("sortie", "archive", "--out", str(demo["tmp"] / "archives"), "--json", *extra)
    assert done.returncode == 0, done.stderr
    return Path(json.loads(done.stdout)["dossier"])


def _verify(folder: Path) -> subprocess.CompletedProcess:
    return run_cli("sortie", "verify", str(folder))


@pytest.mark.libreoffice
def test_archive_with_pdfa_verifies(demo):
    from oncosecours.documents.pdf import page_count, soffice
    from oncosecours.documents.pdfa import declared_pdfa

    if soffice() is None:
        pytest.skip("LibreOffice absent")
    folder = _archive(demo)
    (pdf,) = folder.glob("ordonnancier/*.pdf")
    assert declared_pdfa(pdf) == "2B"
    assert page_count(pdf) >= 1
    assert _verify(folder).returncode == 0
    conn = sqlite3.connect(demo["store"])
    entries = conn.execute("SELECT count(*) FROM preparations").fetchone()[0]
    rows = (folder / "ordonnancier" / "ordonnancier.csv").read_text("utf-8-sig").splitlines()
    assert len(rows) == entries + 1


def test_archive_content_and_procedure_without_oncosecours(demo, tmp_path):
    folder = _archive(demo, "--no-pdf")
    listed = {line.split("  ", 1)[1]
              for line in (folder / "MANIFESTE.sha256").read_text("utf-8").splitlines()}  # fmt: skip
    assert {"ordonnancier/ordonnancier.csv", "journal/journal_audit.jsonl",
            "base/oncosecours.sqlite", "archive.json", "LISEZMOI.md"} <= listed  # fmt: skip
    conn = sqlite3.connect(demo["store"])
    events = conn.execute("SELECT count(*), max(hash) FROM audit_event").fetchone()[0]
    journal = (folder / "journal" / "journal_audit.jsonl").read_text("utf-8").splitlines()
    assert len(journal) == events
    # the README's procedure, run by a bare Python (-I -S: no site-packages, no OncoSecours)
    readme = (folder / "LISEZMOI.md").read_text("utf-8")
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    script = tmp_path / "verifier_journal.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, "-I", "-S", str(script)], cwd=folder,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    last = conn.execute("SELECT last_hash FROM audit_head").fetchone()[0]
    assert f"Journal intègre : {events} événements, dernière empreinte {last}" in done.stdout
    # the manifest in sha256sum format
    check = subprocess.run(["sha256sum", "-c", "MANIFESTE.sha256"], cwd=folder,
                           capture_output=True, text=True)  # fmt: skip
    assert check.returncode == 0, check.stdout


def test_tampered_archive_is_found(demo, tmp_path):
    folder = _archive(demo, "--no-pdf")
    assert _verify(folder).returncode == 0
    csv_file = folder / "ordonnancier" / "ordonnancier.csv"
    csv_file.write_bytes(csv_file.read_bytes().replace(b"2026-000001", b"2026-000099", 1))
    done = _verify(folder)
    assert done.returncode == 1
    assert "ordonnancier/ordonnancier.csv : fichier modifié" in done.stdout
    # an edited journal line, the manifest recomputed to hide it: the chain still tells
    journal = folder / "journal" / "journal_audit.jsonl"
    lines = journal.read_text("utf-8").splitlines()
    event = json.loads(lines[3])
    event["user_initials"] = "XX"
    lines[3] = json.dumps(event, ensure_ascii=False)
    journal.write_text("\n".join(lines) + "\n", encoding="utf-8")
    import hashlib

    manifest = []
    for line in (folder / "MANIFESTE.sha256").read_text("utf-8").splitlines():
        _, name = line.split("  ", 1)
        manifest.append(f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()}  {name}")
    (folder / "MANIFESTE.sha256").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    (folder / "ajout.txt").write_text("ajouté", encoding="utf-8")
    done = _verify(folder)
    assert done.returncode == 1
    assert "journal/journal_audit.jsonl, ligne 4 : contenu modifié" in done.stdout
    assert "ajout.txt : fichier absent du manifeste" in done.stdout
    assert "fichier modifié" not in done.stdout  # the manifest was rewritten to match


def test_close_only_after_the_checklist_then_every_write_refused(demo, tmp_path):
    check = run_cli("sortie", "close", "--check")
    assert check.returncode == 1 and "[ ] Reprise dans Chimio" in check.stdout
    early = run_cli("sortie", "close", "--user", "PH1")
    assert early.returncode == 2 and "CLOTURE_INCOMPLETE" in early.stdout + early.stderr
    # billing, then each remaining break justified, each re-entry item ticked
    assert (
        run_cli("sortie", "billing", "--user", "PH1", "--out", str(tmp_path / "fact")).returncode
        == 0
    )
    report = json.loads(run_cli("sortie", "reconcile", "--json").stdout)
    assert [b["regle"] for b in report["ruptures"]] == ["LIBEREE_NON_ADMINISTREE"]
    for item in report["ruptures"]:
        done = run_cli(
            "sortie",
            "justify",
            "--user",
            "PH1",
            "--break",
            f"{item['regle']}:{item['cle']}",
            "--text",
            "diffuseur 46 h posé à domicile",
        )
        assert done.returncode == 0, done.stderr
    state = json.loads(run_cli("sortie", "reentry", "list", "--json").stdout)
    patients = sorted({i["ipp"] for i in state["items"]})
    for ipp in patients:
        assert (
            run_cli("sortie", "reentry", "tick", "--user", "PH2", "--patient", ipp).returncode == 0
        )
    assert run_cli("sortie", "close", "--check").returncode == 0
    closed = run_cli("sortie", "close", "--user", "PH1")
    assert closed.returncode == 0, closed.stderr
    conn = sqlite3.connect(demo["store"])
    before = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    assert (
        conn.execute("SELECT action FROM audit_event ORDER BY seq DESC").fetchone()[0]
        == "clore_crise"
    )
    # every write is refused, in French, with the rule; nothing is written
    for args in (
        ("note", "add", "--user", "IDE1", "--patient", patients[0], "--text", "après"),
        ("sortie", "reentry", "tick", "--user", "PH1", "--item", "patient:1"),
        (
            "user",
            "add",
            "--user",
            "ADM",
            "--initials",
            "NEW",
            "--name",
            "Nouveau",
            "--role",
            "infirmier",
            "--pin",
            "5093",
        ),
        ("sortie", "close", "--user", "PH1"),
    ):
        done = run_cli(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert (
            "REGISTRE_CLOS" in done.stdout + done.stderr
            and "Registre clos le" in done.stdout + done.stderr
        )
    assert conn.execute("SELECT count(*) FROM audit_event").fetchone()[0] == before
    # reading, the exports, the archive and the checks still work
    assert (
        run_cli("sortie", "reentry", "export", "--out", str(tmp_path / "r"), "--no-docx").returncode
        == 0
    )
    assert run_cli("audit", "verify").returncode == 0
    folder = _archive(demo, "--no-pdf")
    meta = json.loads((folder / "archive.json").read_text("utf-8"))
    assert meta["registre_clos"] and meta["cloture"]["par"] == "PH1"
    assert _verify(folder).returncode == 0
