"""The batch pre-filter: which campaigns may fire for each order, decided for many orders at once.

The stateful replay (:mod:`.replay`) decides every campaign for every event of every order with
the live engine. Most campaigns fail their conditions on most orders; deciding that per order and
campaign in Python is where a naive backtest spends its time. Here every campaign's conditions
are translated into polars expressions (:mod:`._exprs`) and evaluated over a chunk of orders at a
time (:mod:`._table`: one row per order, one per line item), giving per order the set of
campaigns whose conditions *may* hold. The replay asks for that set through its ``candidates``
hook and skips the other campaigns.

Exactness: a campaign is left out of an order's set only when one of its conditions is false for
the order as the engine prices it, i.e. exactly when :func:`~aftersale_kit.core.engine.decide`
would answer ``condition_failed`` once the campaign's gates (enabled, trigger, window) pass.
Whatever the translation cannot decide exactly (an unknown field, enrichment fields not loaded,
an amount with more decimal places than the columns hold, an operator it does not cover) is
"may hold", so the replay's decisions stay those of the per-order engine.

Memory: orders pass through in chunks (``chunk_size``, 5,000 by default); only the chunk's
columns are alive at a time, plus one small entry per order (its id and an interned set of
campaign ids, about 150 bytes).

polars is imported on first use (the ``backtest`` extra), not at import.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Final

from ..core.campaign import ShopConfig
from ..core.conditions import Condition
from ..core.model import Order
from ._exprs import ExprCompiler, fold_quantifiers, quantifier_columns
from ._table import ROW, item_frame, order_frame
from .history import HistoryOrder

if TYPE_CHECKING:
    import polars as pl

    from ..core.campaign import ShopSettings

__all__ = ["DEFAULT_CHUNK", "BatchFilter", "Prefilter", "condition_verdicts", "prefilter"]

#: Orders per chunk. The chunk's orders stay alive until its answers are in; 50,000 of them
#: (as Python objects with their line items) took 500 MB and slowed the garbage collector down
#: for everything else; at 5,000 the columns are still long enough for polars (benchmark P4).
DEFAULT_CHUNK: Final = 5_000
#: Campaigns per mask column (bits of a signed 64-bit integer, the sign bit unused).
_BITS: Final = 62


class _Compiled:
    """Expressions over one order table, and what the table must hold for them."""

    def __init__(self, compiler: ExprCompiler) -> None:
        self.order_fields = sorted(compiler.order_fields)
        self.item_fields = sorted(compiler.item_fields)
        self.quantifiers = list(compiler.quantifiers)

    def frame(self, orders: Sequence[Order], settings: ShopSettings) -> pl.DataFrame:
        """The order table of ``orders`` with the quantifiers folded in, in input order."""
        import polars as pl

        frame, priced = order_frame(orders, settings, self.order_fields)
        if self.quantifiers:
            items = item_frame(priced, self.item_fields)
            folded = fold_quantifiers(items, self.quantifiers)
            columns = quantifier_columns(self.quantifiers)
            frame = (
                frame.join(folded, on=ROW, how="left")
                .sort(ROW)
                .with_columns(pl.col(columns).fill_null(False))
            )
        return frame


def condition_verdicts(
    conditions: Sequence[Condition], orders: Sequence[Order], settings: ShopSettings
) -> list[list[bool | None]]:
    """Per condition, per order: True/False where the batch path is sure, None where not.

    The batch path's answer for single conditions, for tests that hold it against the core's
    :meth:`~aftersale_kit.core.conditions.Condition.evaluate`."""
    compiler = ExprCompiler()
    exprs = [compiler.condition(c).alias(f"#c{i}") for i, c in enumerate(conditions)]
    compiled = _Compiled(compiler)
    if not orders or not exprs:
        return [[None] * len(orders) for _ in conditions]
    table = compiled.frame(orders, settings).with_columns(exprs)
    return [table.get_column(f"#c{i}").to_list() for i in range(len(conditions))]


class BatchFilter:
    """A config's campaigns compiled once; :meth:`evaluate` gives per order the campaigns that
    may fire."""

    def __init__(self, config: ShopConfig) -> None:
        import polars as pl

        self._settings = config.settings
        self._ids = [c.id for c in config.campaigns]
        compiler = ExprCompiler()
        excluded: list[pl.Expr] = []
        for campaign in config.campaigns:
            falses = [(~compiler.condition(c)).fill_null(False) for c in campaign.conditions]
            excluded.append(pl.any_horizontal(falses) if falses else pl.lit(False))
        self._compiled = _Compiled(compiler)
        self._masks: list[pl.Expr] = []
        for start in range(0, len(excluded), _BITS):
            bits = [
                pl.when(ex)
                .then(pl.lit(0, dtype=pl.Int64))
                .otherwise(pl.lit(1 << k, dtype=pl.Int64))
                for k, ex in enumerate(excluded[start : start + _BITS])
            ]
            self._masks.append(pl.sum_horizontal(bits).alias(f"#m{start // _BITS}"))
        self._mask_names = [f"#m{g}" for g in range(len(self._masks))]
        self._sets: dict[tuple[int, ...], frozenset[str]] = {}

    @property
    def campaign_ids(self) -> tuple[str, ...]:
        return tuple(self._ids)

    def evaluate(self, orders: Sequence[Order]) -> list[frozenset[str]]:
        """Per order (in order): the ids of the campaigns whose conditions may hold."""
        if not orders:
            return []
        if not self._masks:
            return [frozenset()] * len(orders)
        # with_columns, not select: a mask of literals only (campaigns without conditions) must
        # still give one value per row
        frame = self._compiled.frame(orders, self._settings).with_columns(self._masks)
        rows = frame.select(self._mask_names).iter_rows()
        return [self._set(row) for row in rows]

    def _set(self, masks: tuple[int, ...]) -> frozenset[str]:
        found = self._sets.get(masks)
        if found is None:
            ids = self._ids
            found = frozenset(
                ids[g * _BITS + k]
                for g, mask in enumerate(masks)
                for k in range(min(_BITS, len(ids) - g * _BITS))
                if mask >> k & 1
            )
            self._sets[masks] = found
        return found


class Prefilter:
    """Passes orders through to the replay chunk by chunk and answers its ``candidates`` hook.

    ``feed`` evaluates each chunk before handing its orders on, so the answer for an order is
    ready by the time the replay can ask. The replay asks with the order *as one of its events
    carries it* (another object: without the later refunds, not yet cancelled, another payment
    status), so answers are kept by order id; they hold for every event of the order because the
    fields that change between events decide nothing here (``_exprs.EVENT_STATE_FIELDS``). An
    order the filter has not seen, or an id that came twice in the history (two different orders
    or two states of one), gets ``None``: every campaign is a candidate.
    """

    def __init__(self, config: ShopConfig, *, chunk_size: int = DEFAULT_CHUNK) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self._filter = BatchFilter(config)
        self._chunk = chunk_size
        self._seen: dict[str, frozenset[str] | None] = {}

    def feed(self, orders: Iterable[HistoryOrder]) -> Iterator[HistoryOrder]:
        it = iter(orders)
        while chunk := list(islice(it, self._chunk)):
            sets = self._filter.evaluate([h.order for h in chunk])
            seen = self._seen
            for history, ids in zip(chunk, sets, strict=True):
                key = history.order.id
                seen[key] = None if key in seen else ids
            yield from chunk

    def __call__(self, order: Order) -> frozenset[str] | None:
        return self._seen.get(order.id)


def prefilter(
    config: ShopConfig, orders: Iterable[HistoryOrder], *, chunk_size: int = DEFAULT_CHUNK
) -> tuple[Iterator[HistoryOrder], Prefilter]:
    """``orders`` passed through the filter, and the ``candidates`` hook for the replay::

    orders, candidates = prefilter(config, read_orders(...))
    result = replay(config, orders, ..., candidates=candidates)
    """
    hook = Prefilter(config, chunk_size=chunk_size)
    return hook.feed(orders), hook
