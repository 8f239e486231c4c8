"""Backtests: replay a shop's campaigns over its past orders (``aftersale-kit backtest``).

``history``: past orders as read from exports (:class:`~.history.HistoryOrder`, bad rows);
``readers``: the export formats (Shopify orders CSV, Shopify bulk-operation JSON Lines,
WooCommerce REST order pages) and ``from_shop``; ``replay``: the stateful pass in time order with
the live engine's semantics; ``batch``: the columnar pre-filter that lets the stateful pass skip
campaigns that cannot fire; ``result``: the figures a run produces; ``report``: HTML, JSON and
CSV. Nothing here does I/O at import.
"""
