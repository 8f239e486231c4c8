"""Prometheus metrics of one service process (a registry per app, so tests can build many)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from ..results.collect import CampaignGauge

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.webhooks = Counter(
            "aftersale_webhooks",
            "Webhook deliveries by platform and result (accepted, duplicate, rejected)",
            ["platform", "result", "reason"],
            registry=r,
        )
        self.jobs = Counter(
            "aftersale_jobs",
            "Jobs by kind and outcome (processed, failed, retried, dead, dropped)",
            ["kind", "outcome"],
            registry=r,
        )
        self.effect_seconds = Histogram(
            "aftersale_effect_seconds",
            "Time per job, platform calls included",
            ["kind"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.blocks = Counter(
            "aftersale_block_requests",
            "Thank-you block requests by result",
            ["platform", "result"],
            registry=r,
        )
        self.messages = Counter(
            "aftersale_messages",
            "Follow-up e-mails by outcome (planned, sent, deferred, held_back by the contact "
            "policy, failed, cancelled; lost: the lease expired before recording)",
            ["outcome"],
            registry=r,
        )
        self.message_states = Gauge(
            "aftersale_messages_by_state",
            "Follow-up e-mails in the schedule by state (planned, deferred, sent, held_back, "
            "failed, cancelled; read from the database when scraped)",
            ["state"],
            registry=r,
        )

        self.quarantined = Gauge(
            "aftersale_quarantined_deliveries",
            "Signed deliveries kept aside as not a usable order, not replayed yet (read from the "
            "database when scraped)",
            ["platform"],
            registry=r,
        )

        self.redemptions = Gauge(
            "aftersale_campaign_redemptions",
            "Codes of a campaign redeemed and not taken back, over all time (read from the "
            "database when scraped)",
            ["shop", "campaign"],
            registry=r,
        )
        self.attributed_revenue = Gauge(
            "aftersale_campaign_attributed_revenue",
            "Goods of the orders that redeemed a campaign's codes, in the shop currency, gross "
            "or net of refunds (read from the database when scraped)",
            ["shop", "campaign", "basis"],
            registry=r,
        )
        self.budget_spent = Gauge(
            "aftersale_campaign_budget_spent",
            "A campaign's cost in its budget period running now (all time without a budget)",
            ["shop", "campaign"],
            registry=r,
        )
        self.budget_limit = Gauge(
            "aftersale_campaign_budget",
            "A campaign's budget per period (only campaigns with a budget)",
            ["shop", "campaign"],
            registry=r,
        )

    def count_campaigns(self, shop: str, gauges: Iterable[CampaignGauge]) -> None:
        for g in gauges:
            self.redemptions.labels(shop, g.campaign_id).set(g.redeemed)
            revenue = self.attributed_revenue
            revenue.labels(shop, g.campaign_id, "gross").set(float(g.revenue_gross))
            revenue.labels(shop, g.campaign_id, "net").set(float(g.revenue_net))
            self.budget_spent.labels(shop, g.campaign_id).set(float(g.budget.spent))
            if g.budget.budget is not None:
                self.budget_limit.labels(shop, g.campaign_id).set(float(g.budget.budget))

    def count_messages(self, counts: Mapping[str, int]) -> None:
        for state in ("planned", "deferred", "sent", "held_back", "failed", "cancelled"):
            self.message_states.labels(state).set(counts.get(state, 0))

    def rejected(self, platform: str, reason: str) -> None:
        self.webhooks.labels(platform, "rejected", reason).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
