"""Reports and exports say what a revision is: which amendment, of what, why, whether the
merchant signed it again; which visit a follow-up follows up. Real stores on disk, real
Ed25519 keys; a visit never amended renders as before (the golden files, test_reports.py).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from pos_tui.cli import main
from pos_tui.domain.session import Outcome, Session
from pos_tui.reports.export import CSV_COLUMNS
from pos_tui.reports.report import render_report
from pos_tui.store.local import LocalStore
from pos_tui.store.sources import VisitRecord, find_row, open_source
from tests.helpers.visits import (
    CHIP_PIN_VALUES,
    laptop_key,
    save_answer,
    save_sign,
    signed_with_a_failure,
)

FIRST_REASON = "备注写错了 <b>|*</b>"
SECOND_REASON = "复测通过：银行卡芯片脏污，清洁后重试"


def amended_twice(store: LocalStore, session: Session) -> tuple[str, str]:
    """A note corrected (the merchant's name carries), then an outcome (they sign again);
    the content hashes of the two revisions the amendments corrected."""
    signed_with_a_failure(store, session)
    first = session.content_sha256
    session.amend("张伟", FIRST_REASON)
    save_answer(store, session, "card", "chip-pin", Outcome.FAIL, "拒绝交易 51：余额不足")
    save_sign(store, session, "张伟", "", signer=laptop_key(store))
    second = session.content_sha256
    assert first is not None and second is not None
    return first, second


def record(store: LocalStore, uuid: str) -> VisitRecord:
    folder = store.folder
    source = open_source(folder)
    try:
        return source.record(find_row(source, uuid[:8]))
    finally:
        source.close()


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as file:
        reader = csv.DictReader(file)
        # The fixed columns first, in order; one value:<field> column each after them.
        names = tuple(reader.fieldnames or ())
        assert names[: len(CSV_COLUMNS)] == CSV_COLUMNS
        assert all(name.startswith("value:") for name in names[len(CSV_COLUMNS) :])
        return list(reader)


# -- reports -------------------------------------------------------------------------


def test_an_amendment_whose_merchant_part_is_unchanged_says_the_signature_carried(
    store: LocalStore, session: Session
) -> None:
    first, _second = amended_twice(store, session)
    html = render_report(record(store, session.uuid), "html", "en")
    assert f"Amendment 1, correcting revision {first[:12]}…" in html
    assert "carried from revision" in html and "did not sign again" in html
    # The reason is text from outside: escaped, in the history table, with who and what.
    assert "备注写错了 &lt;b&gt;|*&lt;/b&gt;" in html and "<b>|*" not in html
    assert f'data-corrects="{first}"' in html
    assert f'<td class="hash" id="corrects">{first}</td>' in html
    zh = render_report(record(store, session.uuid), "html", "zh")
    assert f"第1次更正，更正版本 {first[:12]}…" in zh
    assert "沿用版本" in zh and "商户未重新签字" in zh and "更正记录" in zh


def test_a_second_amendment_lists_both_with_their_reasons_in_order(
    store: LocalStore, session: Session
) -> None:
    first, second = amended_twice(store, session)
    session.amend("张伟", SECOND_REASON)
    save_answer(store, session, "card", "chip-pin", Outcome.PASS, "", CHIP_PIN_VALUES)
    save_sign(store, session, "张伟", "王老板", signer=laptop_key(store))
    visit = record(store, session.uuid)
    html = render_report(visit, "html", "en")
    assert f"Amendment 2, correcting revision {second[:12]}…" in html
    assert "given again for this amendment" in html and "carried from" not in html
    history = html[html.index('id="amendments"') : html.index("<h2>Review</h2>")]
    assert history.index("备注写错了") < history.index(SECOND_REASON)
    assert history.count("<tr data-corrects=") == 2
    assert f'data-corrects="{first}" data-signed-as="{second}"' in history
    # What each amendment changed, by the item's number and title.
    assert "1.1 Chip and PIN purchase" in history
    md = render_report(visit, "md", "en")
    assert "## Amendment history" in md
    assert "| 1 |" in md and f"`{first[:12]}`… → `{second[:12]}`…" in md
    assert "备注写错了 &lt;b&gt;" not in md and r"备注写错了 \<b\>\|\*\</b\>" in md
    assert "Amendment 2, correcting revision" in md


def test_an_amendment_under_way_is_a_draft_of_that_amendment(
    store: LocalStore, session: Session
) -> None:
    _first, second = amended_twice(store, session)
    session.amend("张伟", SECOND_REASON)
    store.save(session)
    html = render_report(record(store, session.uuid), "html", "en")
    said = f"Amendment 2 (under way, not signed again yet), correcting revision {second[:12]}…"
    assert said in html
    assert "DRAFT: not signed" in html
    assert 'id="hash-check" data-state="unsigned">' in html  # not printed as an alarm
    assert "not signed again yet</span>" in html  # the open amendment in the history


def test_a_follow_up_names_the_visit_and_record_it_follows_up(
    store: LocalStore, session: Session
) -> None:
    signed_with_a_failure(store, session)
    follow = Session.start_follow_up(session, "李娜", "laptop-2", named=[("receipt", "clock")])
    store.create(follow)
    save_answer(store, follow, "card", "chip-pin", Outcome.PASS, "", CHIP_PIN_VALUES)
    save_answer(store, follow, "receipt", "clock", Outcome.PASS)
    save_sign(store, follow, "李娜", "王老板", signer=laptop_key(store))
    assert session.content_sha256 is not None
    visit = record(store, follow.uuid)
    html = render_report(visit, "html", "en")
    said = f"visit {session.uuid[:8]} (record {session.content_sha256[:12]}…)"
    assert f"{said}: only the 2 item(s) listed were re-run" in html
    assert "1.1 Chip and PIN purchase; 2.2 Terminal clock" in html
    assert f'data-uuid="{session.uuid}"' in html and session.content_sha256 in html
    assert "Not re-run in this follow-up" in html  # the void, which the first visit passed
    assert "Amendment" not in html
    zh = render_report(visit, "md", "zh")
    assert f"访问 {session.uuid[:8]}（记录 {session.content_sha256[:12]}…）：只重做下列 2 项" in zh
    assert "本次复查不含此项" in zh


def test_a_discarded_draft_printed_says_so_and_why(store: LocalStore, session: Session) -> None:
    session.discard("张伟", "商户取消装机")
    store.save(session)
    html = render_report(record(store, session.uuid), "html", "en")
    assert "DISCARDED: this draft was given up" in html
    assert "商户取消装机" in html and "DRAFT: not signed" not in html


# -- exports -------------------------------------------------------------------------


def test_csv_and_json_say_the_amendment_the_record_it_supersedes_and_why(
    store: LocalStore, session: Session, tmp_path: Path
) -> None:
    first, _second = amended_twice(store, session)
    out = tmp_path / "visits.csv"
    done = CliRunner().invoke(main, ["export", "--store", str(store.folder), "--out", str(out)])
    assert done.exit_code == 0, done.output
    rows = read_csv(out)
    assert {
        (r["amendment"], r["supersedes"], r["amendment_reason"], r["follow_up_of"]) for r in rows
    } == {("1", first, FIRST_REASON, "")}
    done = CliRunner().invoke(main, ["export", "--store", str(store.folder), "--format", "json"])
    [document] = json.loads(done.stdout)
    assert (document["amendment"], document["supersedes"]) == (1, first)
    assert document["amendment_reason"] == FIRST_REASON
    assert document["corrects"]["content_sha256"] == first
    assert document["signoff"]["carried"] is True
    assert document["follow_up_of"] is None and document["follow_up"] is None
    amending = [e for e in document["events"] if e["what"] == "amending"]
    assert amending[0]["detail"]["corrects"] == first  # a hash, never masked as a card


def test_a_follow_up_is_exported_with_the_visit_it_follows_up(
    store: LocalStore, session: Session, tmp_path: Path
) -> None:
    signed_with_a_failure(store, session)
    follow = Session.start_follow_up(session, "李娜")
    store.create(follow)
    save_answer(store, follow, "card", "chip-pin", Outcome.PASS, "", CHIP_PIN_VALUES)
    save_sign(store, follow, "李娜", "王老板", signer=laptop_key(store))
    out = tmp_path / "visits.csv"
    CliRunner().invoke(main, ["export", "--store", str(store.folder), "--out", str(out)])
    mine = [r for r in read_csv(out) if r["visit_uuid"] == follow.uuid]
    assert {(r["follow_up_of"], r["follow_up_of_sha256"]) for r in mine} == {
        (session.uuid, session.content_sha256)
    }
    assert {r["amendment"] for r in mine} == {"0"}
    original = [r for r in read_csv(out) if r["visit_uuid"] == session.uuid]
    assert {(r["amendment"], r["supersedes"], r["follow_up_of"]) for r in original} == {
        ("0", "", "")
    }
    done = CliRunner().invoke(main, ["export", "--store", str(store.folder), "--format", "json"])
    documents = {d["uuid"]: d for d in json.loads(done.stdout)}
    assert documents[follow.uuid]["follow_up_of"] == session.uuid
    assert documents[follow.uuid]["follow_up"]["items"] == [["card", "chip-pin"]]
    assert documents[session.uuid]["amendment"] == 0


def test_drafts_only_when_asked_and_discarded_visits_never(
    store: LocalStore, session: Session, tmp_path: Path
) -> None:
    signed_with_a_failure(store, session)
    draft = Session.start(session.info, session.checklists)
    store.create(draft)
    save_answer(store, draft, "card", "void", Outcome.PASS)
    given_up = Session.start(session.info, session.checklists)
    store.create(given_up)
    given_up.discard("张伟", "商户取消装机")
    store.save(given_up)
    folder = str(store.folder)

    def exported(*more: str) -> set[str]:
        done = CliRunner().invoke(main, ["export", "--store", folder, "--format", "json", *more])
        assert done.exit_code == 0, done.output
        return {document["uuid"] for document in json.loads(done.stdout)}

    assert exported() == {session.uuid}
    assert exported("--drafts") == {session.uuid, draft.uuid}
    out = tmp_path / "visits.csv"
    CliRunner().invoke(main, ["export", "--store", folder, "--out", str(out), "--drafts"])
    assert {r["visit_uuid"] for r in read_csv(out)} == {session.uuid, draft.uuid}
    # An amendment under way is a draft too: its signed revision is what a sheet holds
    # (the shared store keeps it).
    session.amend("张伟", "备注写错了")
    store.save(session)
    assert exported() == set()
    assert exported("--drafts") == {session.uuid, draft.uuid}
