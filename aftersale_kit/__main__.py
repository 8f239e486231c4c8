"""``python -m aftersale_kit``: the same as the ``aftersale-kit`` command."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
