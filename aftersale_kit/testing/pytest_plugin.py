"""pytest plugin (entry point ``pytest11``): fixtures that start the platform sandboxes.

Loaded by pytest automatically once aftersale-kit is installed. It imports nothing heavy until a
fixture is used.
"""

from __future__ import annotations
