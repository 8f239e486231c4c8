"""The loyalty port's contract on the memory store, SQLite and PostgreSQL, and the overspend
guarantee under real concurrency on both engines."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update
from storage_builders import NOW, SHOP

from aftersale_kit.core.loyalty.ledger import Movement, MovementKind, SourceKind
from aftersale_kit.core.loyalty.program import (
    Earn,
    Expiry,
    LoyaltyProgram,
    RedemptionOption,
    RedemptionRules,
    SpentRefundPolicy,
)
from aftersale_kit.core.loyalty.stamps import CardState, StampEntry
from aftersale_kit.storage import CouponStatus, JobKind, Store
from aftersale_kit.storage.loyalty import (
    AccountView,
    Identity,
    JournalRow,
    LedgerDriftError,
    LoyaltyPlan,
)
from aftersale_kit.storage.tables import loyalty_accounts

AnyStore = Any
ME = Identity(customer_id="c1", email="kim@example.com")
PROGRAM = LoyaltyProgram(
    currency="EUR",
    earn=Earn(rate=Decimal(1)),
    pending_days=14,
    expiry=Expiry(lifetime_months=12),
    redemption=RedemptionRules(
        options=(RedemptionOption(id="five", points=100, coupon_value=Decimal(5)),)
    ),
    on_spent_refund=SpentRefundPolicy.DEACTIVATE_COUPON,
)


def earning(order_id: str, points: int, at: Any = NOW) -> JournalRow:
    movement = Movement(
        key=f"earn:{order_id}",
        kind=MovementKind.EARNED_PENDING,
        at=at,
        points=points,
        source=SourceKind.ORDER,
        ref=order_id,
        reason=f"order {order_id}",
        release_at=at + timedelta(days=14),
    )
    return JournalRow(movement, 0, 0, spend=Decimal(points), tier=None)


def reversal(order_id: str, points: int, ref: str = "r1") -> JournalRow:
    movement = Movement(
        key=f"reverse:{order_id}:{ref}",
        kind=MovementKind.REVERSED,
        at=NOW,
        points=points,
        source=SourceKind.REFUND,
        ref=ref,
        reason="refund",
        grant=f"earn:{order_id}",
    )
    return JournalRow(movement, 0, 0)


def book(store: AnyStore, *rows: JournalRow, now: Any = NOW) -> Any:
    return store.loyalty_step(
        shop=SHOP,
        account="c1",
        identity=ME,
        plan=lambda view: LoyaltyPlan(movements=rows),
        policy=PROGRAM.on_spent_refund,
        now=now,
    )


def released(store: AnyStore, points: int = 300) -> None:
    book(store, earning("1", points))
    store.loyalty_sweep(shop=SHOP, account="c1", program=PROGRAM, now=NOW + timedelta(days=15))


def test_an_order_earns_pending_once_and_the_sweep_releases_it_once(port_store: AnyStore) -> None:
    first = book(port_store, earning("1", 120))
    again = book(port_store, earning("1", 120))
    assert len(first.booked) == 1 and again.booked == ()
    assert (first.balance.pending, first.balance.available) == (120, 0)
    early = port_store.loyalty_sweep(
        shop=SHOP, account="c1", program=PROGRAM, now=NOW + timedelta(days=13)
    )
    assert early.booked == ()
    for _ in range(2):
        port_store.loyalty_sweep(
            shop=SHOP, account="c1", program=PROGRAM, now=NOW + timedelta(days=15)
        )
    balance = port_store.loyalty_balance(SHOP, "c1")
    assert (balance.pending, balance.available) == (0, 120)
    kinds = [r.movement.kind for r in port_store.loyalty_journal(SHOP, "c1")]
    assert kinds == [MovementKind.EARNED_PENDING, MovementKind.RELEASED]
    assert port_store.loyalty_check(SHOP) == 1
    assert port_store.loyalty_accounts(SHOP) == ["c1"]
    assert port_store.loyalty_balance(SHOP, "nobody") is None


def test_a_redemption_debits_and_queues_one_customer_coupon(port_store: AnyStore) -> None:
    def redeem(request: str) -> Any:
        return port_store.loyalty_redeem(
            shop=SHOP,
            account="c1",
            identity=ME,
            program=PROGRAM,
            option_id="five",
            request=request,
            code=f"PTS-{request.upper()}",
            now=NOW + timedelta(days=16),
        )

    book(port_store, earning("1", 150))
    refused = redeem("a")
    assert not refused.ok and "pending" in refused.reason
    port_store.loyalty_sweep(shop=SHOP, account="c1", program=PROGRAM, now=NOW + timedelta(days=15))
    done = redeem("a")
    assert done.ok and done.code == "PTS-A" and done.balance.available == 50
    repeat = redeem("a")
    assert repeat.ok and repeat.repeated and repeat.balance.available == 50
    assert not redeem("b").ok
    jobs = [j for j in port_store.jobs() if j.kind == JobKind.CREATE_LOYALTY_COUPON]
    assert len(jobs) == 1
    key = jobs[0].payload["coupon_key"]
    assert port_store.coupon(SHOP, key).status == CouponStatus.PLANNED
    found = port_store.loyalty_redemption(SHOP, key)
    assert (found.customer_id, found.email, found.points) == ("c1", "kim@example.com", 100)
    unknown = port_store.loyalty_redeem(
        shop=SHOP,
        account="c1",
        identity=ME,
        program=PROGRAM,
        option_id="ten",
        request="c",
        code="X",
        now=NOW,
    )
    assert not unknown.ok and "unknown option" in unknown.reason
    port_store.loyalty_check(SHOP)


def test_spent_before_refund_deactivates_the_coupon_then_returns_its_points(
    port_store: AnyStore,
) -> None:
    released(port_store, 100)
    result = port_store.loyalty_redeem(
        shop=SHOP,
        account="c1",
        identity=ME,
        program=PROGRAM,
        option_id="five",
        request="a",
        code="PTS-A",
        now=NOW + timedelta(days=16),
    )
    key = next(j for j in port_store.jobs() if j.kind == JobKind.CREATE_LOYALTY_COUPON).payload[
        "coupon_key"
    ]
    port_store.mark_issued(shop=SHOP, idempotency_key=key, platform_id="p1")
    after = book(port_store, reversal("1", 100))
    assert result.ok and after.balance.available == -100
    deactivations = [j for j in port_store.jobs() if j.kind == JobKind.DEACTIVATE_COUPON]
    assert [j.payload["code"] for j in deactivations] == ["PTS-A"]
    assert port_store.coupon(SHOP, key).status == CouponStatus.REVOKED
    assert port_store.loyalty_coupon_deactivated(shop=SHOP, coupon_key=key)
    assert not port_store.loyalty_coupon_deactivated(shop=SHOP, coupon_key=key)
    assert port_store.loyalty_balance(SHOP, "c1").available == 0
    port_store.loyalty_check(SHOP)


def test_a_coupon_never_created_gives_its_points_back_at_once(port_store: AnyStore) -> None:
    released(port_store, 100)
    port_store.loyalty_redeem(
        shop=SHOP,
        account="c1",
        identity=ME,
        program=PROGRAM,
        option_id="five",
        request="a",
        code="PTS-A",
        now=NOW + timedelta(days=16),
    )
    after = book(port_store, reversal("1", 100))
    assert after.balance.available == 0
    assert not [j for j in port_store.jobs() if j.kind == JobKind.DEACTIVATE_COUPON]
    kinds = [r.movement.kind for r in port_store.loyalty_journal(SHOP, "c1")]
    assert kinds[-2:] == [MovementKind.REVERSED, MovementKind.ADJUSTED]
    port_store.loyalty_check(SHOP)


def test_cards_are_stored_and_the_plan_reads_them(port_store: AnyStore) -> None:
    seen: list[AccountView] = []
    card = CardState("coffee", stamps=(StampEntry("1", NOW),), taken_back=frozenset({"9"}))

    def plan(view: AccountView) -> LoyaltyPlan:
        seen.append(view)
        return LoyaltyPlan(cards={"coffee": card})

    for _ in range(2):
        port_store.loyalty_step(shop=SHOP, account="c1", identity=ME, plan=plan, now=NOW)
    assert seen[0].cards == {} and seen[1].cards == {"coffee": card}
    assert port_store.loyalty_account(SHOP, "c1").cards == {"coffee": card}


def test_the_sweep_expires_once_and_leaves_one_reminder(port_store: AnyStore) -> None:
    released(port_store, 80)
    month = NOW + timedelta(days=350)
    for _ in range(2):
        port_store.loyalty_sweep(
            shop=SHOP, account="c1", program=PROGRAM, now=month, remind_within=timedelta(days=30)
        )
    reminders = port_store.loyalty_reminders(SHOP)
    assert [(r.kind, r.points, r.account) for r in reminders] == [("expiry_reminder", 80, "c1")]
    for _ in range(2):
        port_store.loyalty_sweep(
            shop=SHOP, account="c1", program=PROGRAM, now=NOW + timedelta(days=400)
        )
    balance = port_store.loyalty_balance(SHOP, "c1")
    assert balance.available == 0
    kinds = [r.movement.kind for r in port_store.loyalty_journal(SHOP, "c1")]
    assert kinds.count(MovementKind.EXPIRED) == 1
    port_store.loyalty_check(SHOP)


def test_drift_between_totals_and_journal_is_found(store: Store) -> None:
    book(store, earning("1", 50))
    store.loyalty_check(SHOP)
    with store.db.write() as conn:
        conn.execute(update(loyalty_accounts).values(pending=51))
    with pytest.raises(LedgerDriftError, match="running totals"):
        store.loyalty_check(SHOP)


@pytest.mark.slow
def test_fifty_concurrent_redemptions_spend_what_covers_three(
    open_store: Callable[[], Store],
) -> None:
    stores = [open_store() for _ in range(5)]
    stores[0].migrate()
    released(stores[0], 350)  # covers three redemptions of 100
    start = threading.Barrier(50)
    results: list[bool] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait()
            outcome = stores[index % 5].loyalty_redeem(
                shop=SHOP,
                account="c1",
                identity=ME,
                program=PROGRAM,
                option_id="five",
                request=f"r{index}",
                code=f"PTS-{index}",
                now=NOW + timedelta(days=16),
            )
            results.append(outcome.ok)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results.count(True) == 3 and len(results) == 50
    journal = stores[0].loyalty_journal(SHOP, "c1")
    running, lowest = 0, 0
    for row in journal:
        running += row.available_delta
        lowest = min(lowest, running)
    assert lowest == 0 and running == 50
    coupons = [j for j in stores[0].jobs() if j.kind == JobKind.CREATE_LOYALTY_COUPON]
    assert len(coupons) == 3
    stores[0].loyalty_check(SHOP)


def test_accounts_are_exported_and_anonymised_on_redact_with_the_amounts_kept(
    store: Store,
) -> None:
    guest = Identity(email="gast@example.com")
    store.loyalty_step(
        shop=SHOP,
        account="email:gast@example.com",
        identity=guest,
        plan=lambda view: LoyaltyPlan(movements=(earning("7", 40),)),
        now=NOW,
    )
    book(store, earning("1", 60))
    export = store.export_customer(SHOP, email="gast@example.com")
    [account] = export["loyalty"]
    assert (account["email"], account["pending"]) == ("gast@example.com", 40)
    assert [m["kind"] for m in account["movements"]] == ["earned_pending"]
    counts = store.redact_customer(SHOP, email="gast@example.com", now=NOW)
    assert counts["loyalty_accounts"] == 1
    assert store.export_customer(SHOP, email="gast@example.com")["loyalty"] == []
    keys = store.loyalty_accounts(SHOP)
    assert "email:gast@example.com" not in keys and "c1" in keys
    redacted = next(k for k in keys if k.startswith("redacted:"))
    assert store.loyalty_balance(SHOP, redacted).pending == 40
    assert store.redact_shop(SHOP)["loyalty_accounts"] == 1
    assert all(k.startswith("redacted:") for k in store.loyalty_accounts(SHOP))
    assert store.loyalty_check(SHOP) == 2


def test_a_used_redemption_coupon_is_never_deactivated_the_balance_goes_negative(
    store: Store,
) -> None:
    released(store, 100)
    store.loyalty_redeem(
        shop=SHOP,
        account="c1",
        identity=ME,
        program=PROGRAM,
        option_id="five",
        request="a",
        code="PTS-A",
        now=NOW + timedelta(days=16),
    )
    key = next(j for j in store.jobs() if j.kind == JobKind.CREATE_LOYALTY_COUPON).payload[
        "coupon_key"
    ]
    store.mark_issued(shop=SHOP, idempotency_key=key, platform_id="p1")
    store.mark_used(shop=SHOP, code="PTS-A")
    after = book(store, reversal("1", 100))
    assert after.balance.available == -100
    assert store.coupon(SHOP, key).status == CouponStatus.USED
    assert not [j for j in store.jobs() if j.kind == JobKind.DEACTIVATE_COUPON]
    store.loyalty_check(SHOP)


@pytest.mark.parametrize("seed", range(3))
def test_random_sequences_with_duplicates_and_reorders_never_drift(
    port_store: AnyStore, seed: int
) -> None:
    import random

    rnd = random.Random(seed)
    events: list[JournalRow] = []
    for n in range(6):
        events.append(earning(str(n), rnd.randint(1, 90)))
        for r in range(rnd.randint(0, 2)):
            events.append(reversal(str(n), rnd.randint(1, 40), ref=f"r{r}"))
    events += events[: len(events) // 2]  # redeliveries
    rnd.shuffle(events)
    for index, row in enumerate(events):
        book(port_store, row)
        if index % 4 == 0:
            port_store.loyalty_sweep(
                shop=SHOP, account="c1", program=PROGRAM, now=NOW + timedelta(days=15)
            )
        if index % 5 == 0:
            port_store.loyalty_redeem(
                shop=SHOP,
                account="c1",
                identity=ME,
                program=PROGRAM,
                option_id="five",
                request=f"q{index}",
                code=f"PTS-{index}",
                now=NOW + timedelta(days=16),
            )
        port_store.loyalty_check(SHOP)
    keys = [r.movement.key for r in port_store.loyalty_journal(SHOP, "c1")]
    assert len(keys) == len(set(keys))
    view = port_store.loyalty_account(SHOP, "c1")
    balance = port_store.loyalty_balance(SHOP, "c1")
    assert (view.state.pending, view.state.available) == (balance.pending, balance.available)
    assert balance.pending >= 0
