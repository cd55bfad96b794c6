"""What signatures cost: signing off a visit, and checking a record by the integrity rule.

    python bench/signing.py [--visits 200]

On real visits of the shipped checklists (`pos_tui.demo`), each a full acceptance visit:
- `signoff_ms_*`: the services' path for a sign-off (copy the visit, sign off, write the
  visit file and the index) with the laptop's key, and `unsigned_signoff_ms_p50` without;
- `verify_ms_*`: `domain.integrity` on a signed record against a keyring (content hash,
  three recorded hashes, the Ed25519 signature, the key's standing), and
  `unsigned_verify_ms_p50` on the same record without a signature;
- `verify_10000_s`: that per-record cost times 10,000, the work of a review list's
  background check of a 10,000-visit store (it grows linearly with the store).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pos_tui.demo import demo_sessions
from pos_tui.domain.integrity import integrity
from pos_tui.domain.keyring import TECHNICIAN, KeyEntry, Keyring
from pos_tui.domain.loader import load_checklists
from pos_tui.domain.session import Session, SignOff
from pos_tui.domain.signatures import Signer
from pos_tui.locations import shipped_checklists_dir
from pos_tui.store.keys import DEVICE, ensure_key
from pos_tui.store.local import LocalStore


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def _sign(draft: Session, signer: Signer | None) -> SignOff:
    return draft.sign("张伟", "王老板", signer=signer)


def unsigned_copy(session: Session) -> Session:
    """The same visit just before its sign-off: a draft with every answer."""
    data = session.to_dict() | {"status": "draft", "signoff": None, "content_sha256": None}
    events = [e.to_dict() for e in session.events if e.what != "signed"]
    return Session.from_dict(data | {"signature": None}, session.checklists, events)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--visits", type=int, default=200)
    args = parser.parse_args()
    checklists = load_checklists([shipped_checklists_dir()]).checklists
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "data"
        key = ensure_key(folder, DEVICE)[0]
        ring = Keyring(store_id="bench", admin="bench")
        ring.keys[key.fingerprint] = KeyEntry(
            key.fingerprint, key.public_key, role=TECHNICIAN, trusted_at="2000-01-01T00:00:00+00:00"
        )
        finished = list(demo_sessions(checklists, args.visits, seed=11))
        signed_ms: list[float] = []
        plain_ms: list[float] = []
        verify_ms: list[float] = []
        plain_verify_ms: list[float] = []
        with LocalStore.open(folder) as store:
            for n, visit in enumerate(finished):
                draft = unsigned_copy(visit)
                store.create(draft)
                signer = key if n % 2 == 0 else None
                started = time.perf_counter()
                done = draft.changed(partial(_sign, signer=signer))
                store.save(done.session)
                took = (time.perf_counter() - started) * 1000
                (signed_ms if signer else plain_ms).append(took)
                if signer is None:
                    continue
                row = {"content_sha256": done.session.content_sha256}
                reloaded = store.load(done.session.uuid)
                started = time.perf_counter()
                verdict = integrity(reloaded, row, ring)
                verify_ms.append((time.perf_counter() - started) * 1000)
                assert verdict.state == "verified", verdict
                reloaded.signature = None
                started = time.perf_counter()
                integrity(reloaded, row, ring)
                plain_verify_ms.append((time.perf_counter() - started) * 1000)
    print(
        json.dumps(
            {
                "visits": args.visits,
                "signoff_ms_p50": round(statistics.median(signed_ms), 2),
                "signoff_ms_p95": round(percentile(signed_ms, 95), 2),
                "unsigned_signoff_ms_p50": round(statistics.median(plain_ms), 2),
                "verify_ms_p50": round(statistics.median(verify_ms), 3),
                "verify_ms_p95": round(percentile(verify_ms, 95), 3),
                "unsigned_verify_ms_p50": round(statistics.median(plain_verify_ms), 3),
                "verify_10000_s": round(statistics.median(verify_ms) * 10, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
