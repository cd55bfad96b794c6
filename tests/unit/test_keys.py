"""Keys on disk and the shared store's keyring, on real files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from pos_tui.domain.keyring import ADMIN, PENDING, REVIEWER, REVOKE, TECHNICIAN, TRUST, replay
from pos_tui.domain.signatures import (
    Signature,
    canonical,
    fingerprint_of,
    normalise_fingerprint,
    sign,
)
from pos_tui.store.keyring import (
    AdminChanged,
    append,
    create_genesis,
    keyring_path,
    load_keyring,
    read_lines,
    trusted_keyring,
)
from pos_tui.store.keys import DEVICE, ensure_key, key_path, load_key
from pos_tui.store.keys import REVIEWER as REVIEWER_ROLE
from pos_tui.store.storage import StoreError


def test_a_key_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    key, made = ensure_key(tmp_path, DEVICE)
    again, made_again = ensure_key(tmp_path, DEVICE)
    assert made and not made_again
    assert again.public_key == key.public_key
    path = key_path(tmp_path, DEVICE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert b"PRIVATE KEY" in path.read_bytes()


def test_a_key_others_can_read_is_refused(tmp_path: Path) -> None:
    ensure_key(tmp_path, REVIEWER_ROLE)
    os.chmod(key_path(tmp_path, REVIEWER_ROLE), 0o644)
    with pytest.raises(StoreError, match="can be read by other users"):
        load_key(tmp_path, REVIEWER_ROLE)


def test_a_damaged_or_linked_key_file_is_a_plain_error(tmp_path: Path) -> None:
    path = key_path(tmp_path, DEVICE)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a key")
    os.chmod(path, 0o600)
    with pytest.raises(StoreError, match="damaged"):
        load_key(tmp_path, DEVICE)
    path.unlink()
    path.symlink_to("/dev/zero")
    with pytest.raises(StoreError, match="cannot be used"):
        load_key(tmp_path, DEVICE)


def test_fingerprints_read_aloud_and_typed_back() -> None:
    printed = fingerprint_of(b"\x01" * 32)
    groups = printed.split("-")
    assert len(groups) == 8 and all(len(g) == 4 for g in groups)
    assert set(printed) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567-")
    assert normalise_fingerprint(printed.lower().replace("-", " ")) == printed


def test_a_signature_fails_on_any_change(tmp_path: Path) -> None:
    key, _ = ensure_key(tmp_path, DEVICE)
    document = {"merchant": "上海老王面馆", "answers": [{"outcome": "fail"}]}
    signature = sign(key, canonical(document))
    assert signature.verifies(canonical(document))
    document["answers"][0]["outcome"] = "pass"
    assert not signature.verifies(canonical(document))
    travelled = Signature.from_dict(json.loads(json.dumps(signature.to_dict())))
    assert travelled == signature


# -- the keyring ---------------------------------------------------------------------


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, object]:
    return {
        role: ensure_key(tmp_path / role, DEVICE)[0]
        for role in ("admin", "laptop", "reviewer", "intruder")
    }


@pytest.fixture
def shared(tmp_path: Path, keys: dict[str, object]) -> Path:
    folder = tmp_path / "shared"
    folder.mkdir()
    create_genesis(folder, keys["admin"], "运维 管理员")  # type: ignore[arg-type]
    return folder


def trust(folder: Path, admin: object, key: object, role: str, name: str) -> None:
    ring = load_keyring(folder)
    entry = {
        "action": TRUST,
        "public_key": Signature(key.public_key, b"").to_dict()["public_key"],  # type: ignore[attr-defined]
        "role": role,
        "name": name,
    }
    append(folder, entry, admin, ring)  # type: ignore[arg-type]


def test_genesis_trust_pending_and_revoke(shared: Path, keys: dict[str, object]) -> None:
    admin, laptop, reviewer = keys["admin"], keys["laptop"], keys["reviewer"]
    append(shared, {"action": PENDING, "detail": {"host": "lt-07"}}, laptop, load_keyring(shared))  # type: ignore[arg-type]
    ring = load_keyring(shared)
    fp = laptop.fingerprint  # type: ignore[attr-defined]
    assert ring.admin == admin.fingerprint  # type: ignore[attr-defined]
    assert ring.standing(fp, "2026-12-01T10:00:00+08:00", TECHNICIAN).state == "pending"

    trust(shared, admin, laptop, TECHNICIAN, "张伟")
    trust(shared, admin, reviewer, REVIEWER, "王主管")
    ring = load_keyring(shared)
    assert not ring.problems
    assert ring.standing(fp, "2026-12-01T10:00:00+08:00", TECHNICIAN).state == "trusted"
    assert ring.standing(fp, "2026-12-01T10:00:00+08:00", REVIEWER).state == "wrong_role"
    assert ring.name_of(reviewer.fingerprint) == "王主管"  # type: ignore[attr-defined]

    append(shared, {"action": REVOKE, "fingerprint": fp, "reason": "laptop stolen"}, admin, ring)  # type: ignore[arg-type]
    ring = load_keyring(shared)
    revoked_at = ring.keys[fp].revoked_at
    assert ring.standing(fp, "2020-01-01T00:00:00+08:00", TECHNICIAN).state == "revoked_later"
    assert ring.standing(fp, revoked_at, TECHNICIAN).state == "revoked"
    assert ring.keys[fp].revoke_reason == "laptop stolen"


def test_an_entry_signed_by_anyone_but_an_admin_changes_nothing(
    shared: Path, keys: dict[str, object]
) -> None:
    intruder = keys["intruder"]
    trust(shared, intruder, intruder, ADMIN, "我是管理员")
    ring = load_keyring(shared)
    assert intruder.fingerprint not in {e.fingerprint for e in ring.trusted_with_role(ADMIN)}  # type: ignore[attr-defined]
    assert "not a trusted administrator key" in ring.problems[0]


def test_an_entry_edited_removed_or_moved_is_seen(shared: Path, keys: dict[str, object]) -> None:
    trust(shared, keys["admin"], keys["laptop"], TECHNICIAN, "张伟")
    trust(shared, keys["admin"], keys["reviewer"], REVIEWER, "王主管")
    lines = keyring_path(shared).read_text("utf-8").splitlines()

    edited = json.loads(lines[1])
    edited["entry"]["name"] = "李四"
    keyring_path(shared).write_text("\n".join([lines[0], json.dumps(edited), lines[2]]) + "\n")
    ring = load_keyring(shared)
    assert "does not match its content" in ring.problems[0]
    assert ring.name_of(keys["laptop"].fingerprint) == ""  # type: ignore[attr-defined]

    keyring_path(shared).write_text("\n".join([lines[0], lines[2]]) + "\n")
    assert "was removed or moved" in load_keyring(shared).problems[0]
    keyring_path(shared).write_text("\n".join([lines[0], lines[2], lines[1]]) + "\n")
    assert "was removed or moved" in load_keyring(shared).problems[0]


def test_a_line_cut_short_by_a_crash_is_not_an_entry_and_the_next_append_is_whole(
    shared: Path, keys: dict[str, object]
) -> None:
    with open(keyring_path(shared), "ab") as file:
        file.write(b'{"entry": {"act')
    assert len(read_lines(shared)) == 1
    trust(shared, keys["admin"], keys["laptop"], TECHNICIAN, "张伟")
    ring = load_keyring(shared)
    assert ring.length == 2 and ring.problems == [
        "keyring entry 2: not an entry (a line cut short by a crash, or written by hand)"
    ]
    assert ring.name_of(keys["laptop"].fingerprint) == "张伟"  # type: ignore[attr-defined]


def test_a_replaced_keyring_is_refused_where_the_admin_was_pinned(
    tmp_path: Path, shared: Path, keys: dict[str, object]
) -> None:
    laptop_data = tmp_path / "laptop-data"
    first = trusted_keyring(shared, laptop_data)
    assert first.admin == keys["admin"].fingerprint  # type: ignore[attr-defined]
    # Someone with write access to the folder starts the keyring again under their own key.
    lines = read_lines(shared)
    keyring_path(shared).unlink()
    create_genesis(shared, keys["intruder"], "管理员")  # type: ignore[arg-type]
    forged = read_lines(shared)[0]
    forged_entry = forged["entry"] | {"store_id": lines[0]["entry"]["store_id"], "prev": ""}
    replacement = {
        "entry": forged_entry,
        "signature": sign(keys["intruder"], canonical(forged_entry)).to_dict(),
    }  # type: ignore[arg-type]
    keyring_path(shared).write_text(json.dumps(replacement) + "\n")
    with pytest.raises(AdminChanged, match="the keyring was replaced"):
        trusted_keyring(shared, laptop_data)
    # A machine that never saw the store trusts what it first sees, as with ssh.
    assert replay(read_lines(shared)).admin == keys["intruder"].fingerprint  # type: ignore[attr-defined]
