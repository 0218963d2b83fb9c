"""A SQLite store on a network path is refused at opening, with the reason, in French."""

from __future__ import annotations

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.store import location
from oncosecours.store.db import connect


@pytest.mark.parametrize(
    "path",
    [
        r"\\serveur\pharmacie\oncosecours.sqlite",
        r"\\10.0.0.5\upc$\crise\oncosecours.sqlite",
        "//serveur/pharmacie/oncosecours.sqlite",
        r"\\?\UNC\serveur\pharmacie\oncosecours.sqlite",
        r"\\serveur\pharmacie",
    ],
)
def test_unc_paths_are_network(path):
    assert location.is_unc(path)


@pytest.mark.parametrize(
    "path",
    [
        r"C:\OncoSecours\oncosecours.sqlite",
        r"\\?\C:\OncoSecours\oncosecours.sqlite",
        r"\\.\PhysicalDrive0",
        "/home/upc/oncosecours.sqlite",
        "oncosecours.sqlite",
        r"\\serveur",
    ],
)
def test_local_paths_are_not_unc(path):
    assert not location.is_unc(path)


MOUNTINFO = r"""22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
25 22 0:21 / /proc rw,nosuid - proc proc rw
40 22 0:35 / /mnt/pharmacie rw,relatime shared:20 - cifs //serveur/pharmacie rw,vers=3.1.1
41 22 0:36 / /srv/nfs rw,relatime - nfs4 10.0.0.5:/export rw,vers=4.2
42 41 8:2 / /srv/nfs/local rw,relatime - ext4 /dev/sdb1 rw
43 22 0:37 / /home/upc/Mes\040documents rw - fuse.sshfs upc@serveur:/crise rw
44 22 0:38 / /mnt/c rw,noatime - 9p drvfs rw
45 22 0:39 / /mnt/pharmacie rw - ext4 /dev/sdc1 rw
"""


@pytest.mark.parametrize(
    "path,kind",
    [
        ("/home/upc/oncosecours.sqlite", "ext4"),
        ("/srv/nfs/crise/oncosecours.sqlite", "nfs4"),
        ("/srv/nfs/local/oncosecours.sqlite", "ext4"),  # a local disk mounted inside the share
        ("/srv/nfsx/oncosecours.sqlite", "ext4"),  # a sibling, not under /srv/nfs
        ("/home/upc/Mes documents/oncosecours.sqlite", "fuse.sshfs"),  # \040 is a space
        ("/mnt/c/Users/upc/oncosecours.sqlite", "9p"),
        ("/mnt/pharmacie/oncosecours.sqlite", "ext4"),  # mounted over the share: it hides it
    ],
)
def test_filesystem_type_from_mountinfo(path, kind):
    assert location.filesystem_type(path, location.parse_mountinfo(MOUNTINFO)) == kind


def test_remote_types_from_mountinfo():
    mounts = dict(location.parse_mountinfo(MOUNTINFO))
    assert location.is_remote_filesystem(mounts["/srv/nfs"])
    assert location.is_remote_filesystem(mounts["/home/upc/Mes documents"])
    assert location.is_remote_filesystem("CIFS")
    assert not location.is_remote_filesystem(mounts["/proc"])
    assert not location.is_remote_filesystem("ext4")
    assert not location.is_remote_filesystem(None)


def test_macos_mount_output_is_parsed():
    text = (
        "/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)\n"
        "//upc@serveur/pharmacie on /Volumes/pharmacie (smbfs, nodev, nosuid, mounted by upc)\n"
        "serveur:/export on /Volumes/nfs share (nfs)\n"
    )
    mounts = location.parse_bsd_mount(text)
    assert mounts == [
        ("/", "apfs"),
        ("/Volumes/pharmacie", "smbfs"),
        ("/Volumes/nfs share", "nfs"),
    ]
    assert location.filesystem_type("/Volumes/pharmacie/crise/x.sqlite", mounts) == "smbfs"
    assert location.filesystem_type("/Users/upc/x.sqlite", mounts) == "apfs"


def test_this_machine_tmp_folder_is_local(tmp_path):
    """The probe reads the real mount table; the test folder is on a local disk."""
    assert location.network_reason(tmp_path / "oncosecours.sqlite") is None


def test_connect_refuses_a_store_on_a_remote_filesystem(tmp_path, monkeypatch):
    seen = []

    def cifs(path):
        seen.append(path)
        return "cifs"

    monkeypatch.setattr(location, "probe_filesystem_type", cifs)
    target = tmp_path / "partage" / "oncosecours.sqlite"
    with pytest.raises(OncoError) as caught:
        connect(target)
    message = str(caught.value)
    assert "emplacement réseau" in message and "« cifs »" in message
    assert "même PC" in message and "même numéro d'ordonnancier" in message
    assert "PostgreSQL" in message
    assert str(target) in message
    assert seen == [target]
    assert not target.parent.exists()  # nothing created on the share


def test_connect_refuses_a_unc_path_before_touching_it(tmp_path, monkeypatch):
    monkeypatch.setattr(location, "probe_filesystem_type", lambda path: pytest.fail("probed"))
    with pytest.raises(OncoError, match=r"chemin réseau \(UNC\)"):
        connect("//serveur/pharmacie/oncosecours.sqlite")


def test_connect_opens_a_local_store(tmp_path, monkeypatch):
    monkeypatch.setattr(location, "probe_filesystem_type", lambda path: "ext4")
    conn = connect(tmp_path / "oncosecours.sqlite")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    assert (tmp_path / "oncosecours.sqlite").is_file()


@pytest.mark.skipif(location.os.name != "nt", reason="lecteurs Windows")
def test_windows_system_drive_is_local():
    assert not location.windows_drive_is_remote(location.os.environ.get("SystemDrive", "C:") + "\\")


def test_cli_refuses_a_network_store_in_french(capsys):
    from oncosecours.cli import EXIT_REFUSED, main

    code = main(["status", "--store", "//serveur/pharmacie/oncosecours.sqlite"])
    assert code == EXIT_REFUSED
    err = capsys.readouterr().err
    assert err.startswith("Refusé : Base SQLite sur un emplacement réseau refusée")
    assert "Traceback" not in err
