"""A technician who never stops: records answers until killed.

Prints `saved <checklist> <item> <revision>` after each answer is reported saved, so a
test can kill it at any moment and then check that every reported answer is on disk.

    python -m tests.helpers.record_forever DATA_DIR CHECKLIST_DIR
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Outcome, Session
from pos_tui.domain.visit_info import VisitInfo
from pos_tui.store.local import LocalStore
from tests.helpers.visits import save_answer


def main(folder: Path, checklist_dir: Path) -> None:
    with LocalStore.open(folder) as store:
        drafts = store.drafts()
        if drafts:
            session = store.load(drafts[0].uuid)
        else:
            info = VisitInfo(
                merchant_name="杭州好邻居便利店",
                merchant_number="330100000000001",
                terminal_number="33010001",
                technician="李娜",
                capabilities=("contactless",),
            )
            session = Session.start(info, load_checklists([checklist_dir]).checklists)
            store.create(session)
        print(f"visit {session.uuid}", flush=True)
        keys = [(c.id, i.id) for c, i in session.all_items() if session.applies(i) and not i.fields]
        for checklist_id, item_id in itertools.cycle(keys):
            revision = session.revision + 1
            save_answer(
                store, session, checklist_id, item_id, Outcome.FAIL, note=f"rev={revision} 失败"
            )
            print(f"saved {checklist_id} {item_id} {revision}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
