"""The composition root: one place that builds the service's parts from configuration.

:func:`bootstrap` loads the shops (or takes a loaded registry), opens and migrates the store,
gives the shops that keep credentials the encrypted credential store, and builds the processor
and the metrics. The returned :class:`Wiring` makes the job loop (:meth:`Wiring.worker`) and
the web application (:meth:`Wiring.app`) on demand. ``serve``, ``worker``, ``reconcile``, the
live demo and the test harness all start here::

    wiring = bootstrap(config="shops/", db_url="sqlite:///./aftersale.db")
    app = wiring.app(worker=wiring.worker(threads=4))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..storage import DEFAULT_SQLITE_PATH, Store
from .admin_access import AdminAccess
from .compliance import export_sink
from .connect import attach_credentials
from .effects import Processor
from .followups import FollowUps
from .metrics import Metrics
from .shops import ShopRegistry, default_builder, load_shops
from .worker import Worker

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["Wiring", "bootstrap"]


@dataclass(frozen=True)
class Wiring:
    """The built parts of one service process; they share one store, processor and metrics."""

    registry: ShopRegistry
    store: Store
    processor: Processor
    metrics: Metrics
    #: The dashboard's operator token (from the environment) and what computes its figures.
    admin: AdminAccess = field(default_factory=AdminAccess)

    def worker(self, **options: Any) -> Worker:
        """A job loop over this processor that counts into these metrics (``options``: the
        keyword arguments of :class:`~aftersale_kit.service.worker.Worker`)."""
        return Worker(self.processor, metrics=self.metrics, **options)

    def app(self, *, worker: Worker | None = None, max_body_bytes: int | None = None) -> Starlette:
        """The web application (intake, blocks, health, metrics); with ``worker`` its lifespan
        starts and stops the job loop."""
        from .app import create_app

        return create_app(
            registry=self.registry,
            store=self.store,
            processor=self.processor,
            metrics=self.metrics,
            worker=worker,
            max_body_bytes=max_body_bytes,
            admin=self.admin,
        )

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Wiring:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def bootstrap(
    *,
    config: str | os.PathLike[str] | None = None,
    registry: ShopRegistry | None = None,
    db_url: str | None = None,
    sqlite_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    adapter_options: Mapping[str, Any] | None = None,
    clock: Callable[[], datetime] | None = None,
    export_dir: str | Path | None = None,
) -> Wiring:
    """Build the service's parts from a shop file or folder (``config``) or a loaded
    ``registry`` (exactly one of the two).

    ``db_url`` ``None`` means the SQLite file at ``sqlite_path`` (default ``./aftersale.db``);
    ``env`` stands in for the process environment (shop secrets, the credential key);
    ``adapter_options`` go to every adapter's builder; ``export_dir`` is where customer data
    exports are written. Raises the configuration and storage errors of the parts it builds
    (every one an :class:`~aftersale_kit.core.errors.AftersaleKitError`); the store is closed
    again when a later part fails.
    """
    if (config is None) == (registry is None):
        raise TypeError("bootstrap() takes exactly one of config= and registry=")
    if registry is None:
        assert config is not None
        builder = default_builder(adapter_options) if adapter_options is not None else None
        registry = load_shops(config, env=env, builder=builder)
    store = Store.open(db_url, sqlite_path=sqlite_path or DEFAULT_SQLITE_PATH, migrate=True)
    try:
        attach_credentials(registry, store, env=env)
    except BaseException:
        store.close()
        raise
    sink = export_sink(export_dir) if export_dir is not None else None
    processor = (
        Processor(registry=registry, store=store, compliance_sink=sink)
        if clock is None
        else Processor(registry=registry, store=store, compliance_sink=sink, clock=clock)
    )
    environment = os.environ if env is None else env
    try:
        admin = AdminAccess.from_env(environment)
        processor.follow_ups = FollowUps.from_env(environment, clock=clock)
    except BaseException:
        store.close()
        raise
    return Wiring(
        registry=registry, store=store, processor=processor, metrics=Metrics(), admin=admin
    )
