"""``python -m bench orders``: the synthetic order histories of
:mod:`aftersale_kit.backtest.generate` (which ships in the package, for ``make demo``)."""

from __future__ import annotations

from aftersale_kit.backtest.generate import FORMATS, OUTPUTS, GenOrder, generate, main, write

__all__ = ["FORMATS", "OUTPUTS", "GenOrder", "generate", "main", "write"]
