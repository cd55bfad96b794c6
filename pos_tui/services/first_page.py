"""The review list's first page from a PostgreSQL store, read by a child process while the
app starts.

Opening a database store costs the review's start about 0.4 s of Python: the driver's
import (psycopg, 0.2 s), the connection, the keyring's signatures, the page's rows and
decisions. In the app's own process that work shares one interpreter lock with the import
and start of the screens, so the two add up. A child does it on another core meanwhile;
the app's process opens its own connection later, on the review's worker thread, once the
page is shown (`SharedSource(..., later=True)`), for everything else the supervisor does.

The child only helps: a child that cannot start, dies or answers nonsense costs speed,
not results (the app opens the store itself, and says what is wrong with it, as before).
What the child could not open it says in a sentence, which the command says before the
app starts, as it says any store that cannot be opened.

The child is this program, started by it, talking over pipes only the two hold: what it
sends back is unpickled as the app's own data (docs/trust.md).
"""

from __future__ import annotations

import contextlib
import json
import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pos_tui.services.children import child_env
from pos_tui.store.storage import StoreError

if TYPE_CHECKING:
    from pos_tui.domain.decisions import CheckedDecision
    from pos_tui.services.review_pages import Page

_CHILD = "from pos_tui.services.first_page import serve; serve()"


@dataclass(frozen=True, slots=True)
class FirstPage:
    page: Page
    """The list's first page, unfiltered, in its first order (`PageQuery()`)."""
    checked: dict[str, list[CheckedDecision]]
    """The checked decisions of the page's visits, by uuid (as `read_page` gives them)."""


class FirstPageReader:
    """A child process reading the first page of the store at `target` (a URL)."""

    def __init__(self, target: str, data_folder: Path) -> None:
        self._child: subprocess.Popen[bytes] | None
        try:
            self._child = subprocess.Popen(
                [sys.executable, "-c", _CHILD],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=child_env(),
            )
            assert self._child.stdin is not None
            request = {"target": target, "data_folder": str(data_folder)}
            self._child.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
            self._child.stdin.close()
        except (OSError, ValueError):  # no interpreter to start, or it is gone already
            self.close()

    def opened(self) -> dict[str, str] | None:
        """Wait for the child to open the store: the names its keyring trusts, by key
        fingerprint. None when the child cannot tell (the caller opens the store itself).
        Raises the StoreError the child met opening it."""
        if self._child is None:
            return None
        assert self._child.stdout is not None
        try:
            said = json.loads(self._child.stdout.readline() or b"null")
        except (OSError, ValueError):
            said = None
        if isinstance(said, dict) and isinstance(said.get("error"), list):
            english, chinese = (str(part) for part in said["error"][:2])
            self.close()
            raise StoreError(english, chinese)
        names = said.get("names") if isinstance(said, dict) else None
        if not isinstance(names, dict):
            self.close()
            return None
        return {str(fingerprint): str(name) for fingerprint, name in names.items()}

    def page(self) -> FirstPage | None:
        """Wait for the page; None when the child did not send one (the caller reads it)."""
        if self._child is None:
            return None
        assert self._child.stdout is not None
        try:
            found = pickle.load(self._child.stdout)
        except Exception:  # gone, or cut short: any unpickling error, none worth more
            found = None
        self.close()
        return found if isinstance(found, FirstPage) else None

    def close(self) -> None:
        child, self._child = getattr(self, "_child", None), None
        if child is None:
            return
        with contextlib.suppress(OSError):
            child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()


def serve(stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None) -> None:
    """The child: the target in, one JSON line out once the store is open (or why it
    cannot be), then the pickled `FirstPage`."""
    from pos_tui.store.sources import SharedSource

    given, out = stdin or sys.stdin.buffer, stdout or sys.stdout.buffer
    request = json.loads(given.readline())
    try:
        source = SharedSource(request["target"], Path(request["data_folder"]))
    except StoreError as error:
        out.write(json.dumps({"error": [str(error), error.zh]}).encode("utf-8") + b"\n")
        return
    try:
        ring = source.keyring
        names = {fp: name for fp in ring.keys if (name := ring.name_of(fp))}
        out.write(json.dumps({"names": names}, ensure_ascii=False).encode("utf-8") + b"\n")
        out.flush()
        # Imported after the hello, which the app waits for before it starts: the page is
        # wanted only once its screen is up.
        from pos_tui.services.review_pages import PageQuery, read_page

        page, checked = read_page(source.store, ring, PageQuery(), None, source.record_sha256_of)
        pickle.dump(FirstPage(page, checked), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()
    except StoreError:
        return  # the app reads the page itself, and says why it cannot
    finally:
        source.close()
