"""The stored confirmation-page content of an order as the bytes stored, for the block endpoint.

:meth:`Store.load_blocks` decodes the JSON; the endpoint only passes it on, so it reads the
stored text with one prepared statement on the driver's cursor (:meth:`Database.raw_read`) and
answers it as it is (compact JSON with sorted keys, as :func:`.codec.dumps` wrote it).
"""

from __future__ import annotations

from .db import Database

__all__ = ["load_blocks_json"]

_SQL = "SELECT payload FROM blocks WHERE shop = ? AND order_id = ?"
_BY_DIALECT = {"sqlite": _SQL, "postgresql": _SQL.replace("?", "%s")}


def load_blocks_json(db: Database, shop: str, order_id: str) -> bytes | None:
    """The stored blocks of ``(shop, order_id)`` as UTF-8 JSON, ``None`` if there are none."""
    with db.raw_read() as cursor:
        cursor.execute(_BY_DIALECT[db.dialect], (shop, order_id))
        row = cursor.fetchone()
    if row is None:
        return None
    text = row[0]
    return text.encode("utf-8") if isinstance(text, str) else bytes(text)
