"""The job queue: leases, exclusive claims across threads and processes, retries, crashes."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from storage_builders import NOW, SHOP

from aftersale_kit.storage import JobStatus, Store, backoff_delay

CHILD = Path(__file__).with_name("storage_child.py")


def fill(store: Store, count: int, *, kind: str = "tag_order") -> None:
    for i in range(count):
        assert store.enqueue(
            shop=SHOP, kind=kind, idempotency_key=f"job-{i}", payload={"n": i}, now=NOW
        )


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=CHILD.parent,
    )


def kill(child: subprocess.Popen[str]) -> None:
    """SIGKILL, reap, close the pipes."""
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    for stream in (child.stdin, child.stdout):
        if stream is not None:
            stream.close()


def test_enqueue_is_idempotent_per_shop_and_key(store: Store) -> None:
    assert store.enqueue(shop=SHOP, kind="tag_order", idempotency_key="k", payload={}, now=NOW)
    assert not store.enqueue(shop=SHOP, kind="tag_order", idempotency_key="k", payload={"x": 1})
    assert len(store.jobs()) == 1


def test_claim_leases_due_jobs_oldest_first(store: Store) -> None:
    # given a job due now and one due in an hour
    store.enqueue(
        shop=SHOP,
        kind="a",
        idempotency_key="later",
        payload={},
        run_at=NOW + timedelta(hours=1),
        now=NOW,
    )
    store.enqueue(shop=SHOP, kind="a", idempotency_key="now", payload={"p": [1, "2"]}, now=NOW)
    # when a worker claims
    [job] = store.claim(worker_id="w1", limit=10, lease_seconds=30, now=NOW)
    # then it gets the due job, leased to it
    assert job.idempotency_key == "now"
    assert job.payload == {"p": [1, "2"]}
    assert (job.status, job.attempts, job.locked_by) == (JobStatus.CLAIMED, 1, "w1")
    assert job.locked_until == NOW + timedelta(seconds=30)
    # and nobody else gets it while the lease runs
    assert store.claim(worker_id="w2", limit=10, now=NOW + timedelta(seconds=29)) == []


def test_kinds_filter(store: Store) -> None:
    fill(store, 2, kind="create_coupon")
    store.enqueue(shop=SHOP, kind="tag_order", idempotency_key="t", payload={}, now=NOW)
    jobs = store.claim(worker_id="w", limit=10, now=NOW, kinds=["tag_order"])
    assert [j.kind for j in jobs] == ["tag_order"]


def test_an_expired_lease_is_claimed_again_and_fences_the_old_worker(store: Store) -> None:
    # given a job claimed by a worker that then stalls past its lease
    fill(store, 1)
    [old] = store.claim(worker_id="slow", limit=1, lease_seconds=10, now=NOW)
    # when another worker claims after the lease ran out
    [new] = store.claim(
        worker_id="fast", limit=1, lease_seconds=10, now=NOW + timedelta(seconds=11)
    )
    # then it gets the same job, second attempt
    assert (new.id, new.attempts, new.locked_by) == (old.id, 2, "fast")
    # and the stalled worker can no longer finish or reschedule it
    assert not store.complete(old, now=NOW)
    assert store.retry(old, error="late", at=NOW) is None
    assert not store.dead(old, error="late")
    assert store.complete(new, now=NOW)
    assert store.job(new.id) is not None and store.job(new.id).status == JobStatus.DONE  # type: ignore[union-attr]


def test_retry_backs_off_and_the_last_attempt_goes_dead(store: Store) -> None:
    store.enqueue(shop=SHOP, kind="k", idempotency_key="x", payload={}, max_attempts=2, now=NOW)
    # first attempt fails: pending again, not due before the backoff
    [job] = store.claim(worker_id="w", limit=1, now=NOW)
    assert store.fail(job, error="boom 1", now=NOW) == JobStatus.PENDING
    delay = backoff_delay(1, jitter_key=str(job.id))
    assert store.claim(worker_id="w", limit=1, now=NOW + delay - timedelta(seconds=1)) == []
    # second (last) attempt fails: dead, with the error kept
    [job] = store.claim(worker_id="w", limit=1, now=NOW + delay)
    assert job.attempts == 2 and job.last_error == "boom 1"
    assert store.retry(job, error="boom 2", at=NOW + delay) == JobStatus.DEAD
    dead = store.job(job.id)
    assert dead is not None
    assert (dead.status, dead.last_error) == (JobStatus.DEAD, "boom 2")
    assert store.claim(worker_id="w", limit=1, now=NOW + timedelta(days=1)) == []
    # an operator revives it with fresh attempts
    assert store.requeue(job.id, at=NOW)
    [again] = store.claim(worker_id="w", limit=1, now=NOW)
    assert again.attempts == 1


def test_a_lease_lost_on_the_last_attempt_makes_the_job_dead(store: Store) -> None:
    store.enqueue(shop=SHOP, kind="k", idempotency_key="x", payload={}, max_attempts=1, now=NOW)
    [job] = store.claim(worker_id="w", limit=1, lease_seconds=5, now=NOW)
    assert store.claim(worker_id="w2", limit=1, now=NOW + timedelta(seconds=6)) == []
    dead = store.job(job.id)
    assert dead is not None and dead.status == JobStatus.DEAD
    assert "lease expired" in (dead.last_error or "")


def test_release_gives_the_job_back_without_counting_the_attempt(store: Store) -> None:
    fill(store, 1)
    [job] = store.claim(worker_id="w", limit=1, now=NOW)
    assert store.release(job, at=NOW + timedelta(seconds=5))
    assert store.claim(worker_id="w", limit=1, now=NOW) == []
    [again] = store.claim(worker_id="w", limit=1, now=NOW + timedelta(seconds=5))
    assert again.attempts == 1


def test_backoff_delay_grows_and_is_capped() -> None:
    assert backoff_delay(1, jitter=0) == timedelta(seconds=10)
    assert backoff_delay(3, jitter=0) == timedelta(seconds=40)
    assert backoff_delay(30, jitter=0) == timedelta(hours=1)
    spread = {backoff_delay(2, jitter_key=str(i)) for i in range(20)}
    assert len(spread) > 1
    assert all(timedelta(seconds=20) <= d <= timedelta(seconds=22) for d in spread)
    assert backoff_delay(2, jitter_key="7") == backoff_delay(2, jitter_key="7")
    with pytest.raises(ValueError, match="attempts must be at least 1"):
        backoff_delay(0)


@pytest.mark.slow
def test_concurrent_thread_workers_never_share_a_job(store: Store) -> None:
    # given 300 jobs and 6 workers claiming at once
    fill(store, 300)
    taken: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def work(worker: str) -> None:
        barrier.wait()
        while jobs := store.claim(worker_id=worker, limit=4, now=NOW):
            for job in jobs:
                assert store.complete(job, now=NOW)
            with lock:
                taken.extend(j.id for j in jobs)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then every job was taken exactly once
    assert len(taken) == 300
    assert len(set(taken)) == 300
    assert store.queue_stats()[JobStatus.DONE] == 300


@pytest.mark.slow
def test_concurrent_worker_processes_never_share_a_job(store: Store, store_url: str) -> None:
    # given 120 jobs and three worker processes, started and then released together
    fill(store, 120)
    children = [spawn("claim", store_url, NOW.isoformat()) for _ in range(3)]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        outputs = [child.communicate(timeout=60)[0] for child in children]
    finally:
        for child in children:
            if child.returncode is None:
                kill(child)
    # then every job was completed by exactly one process
    assert [c.returncode for c in children] == [0, 0, 0]
    ids = Counter(int(line.split()[1]) for out in outputs for line in out.splitlines())
    assert len(ids) == 120
    assert set(ids.values()) == {1}
    assert store.queue_stats()[JobStatus.DONE] == 120


@pytest.mark.slow
def test_a_killed_worker_loses_no_job(store: Store, store_url: str) -> None:
    # given a worker process that claimed every job and was killed before finishing
    fill(store, 5)
    child = spawn("claim-hang", store_url, NOW.isoformat())
    assert child.stdout is not None
    line = child.stdout.readline().split()
    kill(child)
    assert line[0] == "claimed" and len(line) == 6
    # when the lease has run out
    assert store.claim(worker_id="heir", limit=10, now=NOW + timedelta(seconds=29)) == []
    jobs = store.claim(worker_id="heir", limit=10, now=NOW + timedelta(seconds=30))
    # then another worker gets exactly those jobs, each once
    assert sorted(j.id for j in jobs) == sorted(int(i) for i in line[1:])
    assert {j.attempts for j in jobs} == {2}


@pytest.mark.slow
def test_events_survive_a_killed_intake_process_and_nothing_doubles(
    store: Store, store_url: str
) -> None:
    # given an intake process killed (SIGKILL) while it accepts 100000 events
    child = spawn("accept", store_url, "100000")
    assert child.stdout is not None
    acknowledged = [int(child.stdout.readline()) for _ in range(150)]
    kill(child)
    # then every acknowledged event is stored, and each stored event has exactly one job
    stored = {j.event_id: j for j in store.jobs(limit=100_000)}
    keys = set()
    for event_id in stored:
        assert event_id is not None
        event = store.event(event_id)
        assert event is not None
        keys.add(event.dedupe_key)
    assert {f"evt-{i}" for i in acknowledged} <= keys
    assert len(keys) == len(stored) < 100_000
    # and when the platform redelivers the first 400, each is stored exactly once
    for i in range(400):
        store.accept_event(
            shop=SHOP,
            platform="shopify",
            topic="orders/paid",
            dedupe_key=f"evt-{i}",
            received_at=NOW,
            body=b"{}",
        )
    total = len(store.jobs(limit=100_000))
    assert total == max(400, len(stored))
