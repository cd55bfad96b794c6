"""`pos-tui shared init` and `pos-tui keys`, as an administrator and a supervisor use them."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pos_tui(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, POS_TUI_CONFIG_FILE=str(home / "settings.json"))
    return subprocess.run(
        [sys.executable, "-m", "pos_tui", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def fingerprint_in(output: str) -> str:
    [line] = [
        line
        for line in output.splitlines()
        if line.startswith(("Fingerprint:", "Administrator key:"))
    ]
    return line.split(":", 1)[1].strip()


def test_a_bank_is_set_up_trusted_and_a_key_revoked_from_the_command_line(
    tmp_path: Path,
) -> None:
    shared, admin, supervisor = tmp_path / "shared", tmp_path / "admin", tmp_path / "supervisor"
    made = pos_tui(
        "shared",
        "init",
        str(shared),
        "--name",
        "系统管理员",
        "--data-dir",
        str(admin),
        home=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    admin_fp = fingerprint_in(made.stdout)
    assert len(admin_fp) == 39 and (shared / "keyring.jsonl").exists()
    again = pos_tui("shared", "init", str(shared), "--data-dir", str(admin), home=tmp_path)
    assert again.returncode == 1 and "not an empty folder" in again.stderr

    asked = pos_tui(
        "keys",
        "init",
        "--reviewer",
        "--store",
        str(shared),
        "--data-dir",
        str(supervisor),
        home=tmp_path,
    )
    assert asked.returncode == 0, asked.stderr
    reviewer_fp = fingerprint_in(asked.stdout)
    key_file = supervisor / "keys" / "reviewer.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "Asked the administrator to trust it" in asked.stdout

    listed = pos_tui(
        "keys", "list", "--store", str(shared), "--data-dir", str(admin), home=tmp_path
    )
    assert f"{reviewer_fp}  -" in listed.stdout and "pending since" in listed.stdout

    # Only the administrator's machine can trust; a fingerprint may be typed any way.
    refused = pos_tui(
        "keys", "trust", reviewer_fp, "--name", "王主管", "--role", "reviewer",
        "--store", str(shared), "--data-dir", str(supervisor), home=tmp_path,
    )  # fmt: skip
    assert refused.returncode == 1 and "holds no administrator key" in refused.stderr
    typed = reviewer_fp.replace("-", " ").lower()
    trusted = pos_tui(
        "keys", "trust", typed, "--name", "王主管", "--role", "reviewer", "--employee-no", "A0017",
        "--store", str(shared), "--data-dir", str(admin), home=tmp_path,
    )  # fmt: skip
    assert trusted.returncode == 0, trusted.stderr
    assert f"Trusted {reviewer_fp} as reviewer 王主管." in trusted.stdout

    revoked = pos_tui(
        "keys", "revoke", reviewer_fp, "--reason", "离职",
        "--store", str(shared), "--data-dir", str(admin), home=tmp_path,
    )  # fmt: skip
    assert revoked.returncode == 0, revoked.stderr
    listed = pos_tui(
        "keys", "list", "--store", str(shared), "--data-dir", str(admin), home=tmp_path
    )
    assert f"{reviewer_fp}  reviewer      王主管 #A0017  revoked" in listed.stdout
    assert f"{admin_fp}  administrator 系统管理员  trusted" in listed.stdout

    shown = pos_tui("keys", "show", "--data-dir", str(supervisor), home=tmp_path)
    assert shown.stdout.split() == ["reviewer", reviewer_fp]
