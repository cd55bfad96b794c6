"""The app under Textual's headless driver quits while answers are still queued for disk.

    python -m tests.helpers.quit_while_saving DATA_DIR CHECKLIST_DIR

The worker is held (a job that waits on an event) while the technician answers, so every
save is still queued when ctrl+q is pressed; the hold is released only after the quit.
Prints `exited <n>` with the number of answers asked for, once the app has exited. A hang
here is what the test looks for: it runs this with a timeout.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path

from pos_tui.config import Settings
from pos_tui.domain.loader import load_checklists
from pos_tui.services.technician import Services
from pos_tui.store.local import LocalStore
from pos_tui.ui.app import make_app
from pos_tui.ui.screens.runner import RunnerScreen

ANSWERS = 3


async def main(folder: Path, checklist_dir: Path) -> None:
    checklists = load_checklists([checklist_dir]).checklists
    with LocalStore.open(folder) as store:
        [draft] = store.drafts()
        services = Services(store, checklists, Settings(technician="张伟"))
        session = services.load(draft.uuid).result()
        app = make_app(services, "en")
        hold = threading.Event()
        async with app.run_test(size=(100, 30)) as pilot:
            await app.push_screen(RunnerScreen(session))
            await pilot.pause()
            services.worker.submit(hold.wait)
            # Past Chip and PIN (it needs values): three items a plain pass answers.
            await pilot.press("j", *["p"] * ANSWERS)
            await pilot.press("ctrl+q")
            hold.set()
        print(f"exited {ANSWERS}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
