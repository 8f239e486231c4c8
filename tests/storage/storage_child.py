"""A separate process for the storage tests: ``python storage_child.py MODE URL [ARGS]``.

Modes:
  claim NOW           print "ready", wait for a line on stdin, claim and complete jobs until none
                      is left, printing "job <id>" for each completed one
  claim-hang NOW      claim every due job (lease 30 s), print "claimed <ids>", then hang
  accept N            accept events evt-0 .. evt-(N-1), printing each index once committed
  decide-hang ORDER   enter decide_once for ORDER, print "inside" from the decide callable, hang
"""

from __future__ import annotations

import sys
import time
from datetime import datetime

from storage_builders import NOW, SHOP

from aftersale_kit.core.model import EventKind
from aftersale_kit.storage import Store


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> None:
    mode, url, *args = argv
    store = Store.open(url)
    if mode == "claim":
        now = datetime.fromisoformat(args[0])
        worker = f"child-{id(store)}"
        say("ready")
        sys.stdin.readline()
        while jobs := store.claim(worker_id=worker, limit=3, lease_seconds=60, now=now):
            for job in jobs:
                assert store.complete(job, now=now)
                say(f"job {job.id}")
    elif mode == "claim-hang":
        now = datetime.fromisoformat(args[0])
        jobs = store.claim(worker_id="doomed", limit=100, lease_seconds=30, now=now)
        say("claimed " + " ".join(str(j.id) for j in jobs))
        time.sleep(120)
    elif mode == "accept":
        for i in range(int(args[0])):
            store.accept_event(
                shop=SHOP,
                platform="shopify",
                topic="orders/paid",
                dedupe_key=f"evt-{i}",
                received_at=NOW,
                body=b'{"n": %d}' % i,
            )
            say(str(i))
    elif mode == "decide-hang":

        def hang(_counters: object) -> object:
            say("inside")
            time.sleep(120)
            raise AssertionError("should have been killed")

        store.decide_once(
            shop=SHOP,
            order_id=args[0],
            event_kind=EventKind.ORDER_PAID,
            customer_key=None,
            decide=hang,  # type: ignore[arg-type]
            now=NOW,
        )
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    store.close()


if __name__ == "__main__":
    main(sys.argv[1:])
