"""Collections as ``WC_REST_CRUD_Controller::get_items`` serves them.

The common arguments (``page``, ``per_page``, ``search``, the date filters, ``include``/
``exclude``, ``offset``, ``order``/``orderby``), WP_Query ordering, and the ``X-WP-Total``,
``X-WP-TotalPages`` and ``Link`` headers (``prev``/``next`` only), built from the request's own
query string (OAuth parameters included, as on the platform).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from .phpquery import build_query
from .rest import Args, RestContext, RestRequest, RestResponse, rest_url
from .values import DATE_FORMAT

__all__ = ["CollectionArgs", "Page", "collection_response", "date_matches", "sort_records"]

T = TypeVar("T")


@dataclass
class Page:
    items: list[Any]
    total: int
    pages: int
    page: int


class CollectionArgs:
    """The arguments every ``WC_REST_CRUD_Controller`` collection takes, validated in order."""

    def __init__(
        self,
        args: Args,
        *,
        orderby: Sequence[str] = ("date", "id", "include", "title", "slug", "modified"),
        default_orderby: str = "date",
        default_order: str = "desc",
        dates: bool = True,
    ) -> None:
        self.context = args.string("context", default="view", enum=("view", "edit"))
        self.page = args.integer("page", default=1, minimum=1) or 1
        self.per_page = args.integer("per_page", default=10, minimum=1, maximum=100) or 10
        self.search = args.string("search")
        if dates:
            self.after = args.date("after")
            self.before = args.date("before")
            self.modified_after = args.date("modified_after")
            self.modified_before = args.date("modified_before")
            self.dates_are_gmt = bool(args.boolean("dates_are_gmt", default=False))
        self.exclude = args.int_list("exclude") or []
        self.include = args.int_list("include") or []
        self.offset = args.integer("offset")
        self.order = args.string("order", default=default_order, enum=("asc", "desc")) or ""
        self.orderby = args.string("orderby", default=default_orderby, enum=orderby) or ""

    def select(self, rows: list[T], record_id: Callable[[T], int]) -> list[T]:
        """``include`` and ``exclude`` applied to ``rows``."""
        if self.include:
            rows = [row for row in rows if record_id(row) in self.include]
        if self.exclude:
            rows = [row for row in rows if record_id(row) not in self.exclude]
        return rows

    def dated(
        self,
        created: tuple[str | None, str | None],
        modified: tuple[str | None, str | None],
        utc_offset: float,
    ) -> bool:
        """Whether a record's (local, GMT) dates pass ``after``/``before`` and the modified pair."""
        return date_matches(
            created,
            after=self.after,
            before=self.before,
            use_gmt=self.dates_are_gmt,
            utc_offset=utc_offset,
        ) and date_matches(
            modified,
            after=self.modified_after,
            before=self.modified_before,
            use_gmt=self.dates_are_gmt,
            utc_offset=utc_offset,
        )

    def page_of(
        self, records: list[dict[str, Any]], keys: dict[str, Callable[[dict[str, Any]], Any]]
    ) -> Page:
        """``records`` sorted by ``orderby``/``order`` (see :func:`sort_records`), then paged."""
        ordered = sort_records(
            records, orderby=self.orderby, order=self.order, include=self.include, keys=keys
        )
        total = len(ordered)
        start = self.offset if self.offset is not None else (self.page - 1) * self.per_page
        pages = -(-total // self.per_page)
        return Page(ordered[start : start + self.per_page], total, pages, self.page)


def collection_response(
    ctx: RestContext, request: RestRequest, page: Page, data: list[Any]
) -> RestResponse:
    """``X-WP-Total``, ``X-WP-TotalPages`` and the ``prev``/``next`` ``Link`` header."""
    headers = [("X-WP-Total", str(page.total)), ("X-WP-TotalPages", str(page.pages))]
    base_params = dict(request.query)
    link_parts: list[str] = []

    def page_link(number: int) -> str:
        params = dict(base_params)
        params["page"] = number
        return rest_url(ctx.site, request.route.rstrip("/")) + "?" + build_query(params)

    if page.page > 1:
        link_parts.append(f'<{page_link(min(page.page - 1, page.pages))}>; rel="prev"')
    if page.pages > page.page:
        link_parts.append(f'<{page_link(page.page + 1)}>; rel="next"')
    if link_parts:
        headers.append(("Link", ", ".join(link_parts)))
    return RestResponse(200, data, headers)


def date_matches(
    stamps: tuple[str | None, str | None],
    *,
    after: datetime | None,
    before: datetime | None,
    use_gmt: bool,
    utc_offset: float,
) -> bool:
    """WP_Date_Query ``after``/``before`` (exclusive) against a record's (local, GMT) dates.

    A value with an offset is compared as an instant; a naive one in the column's own time
    (site-local, or GMT with ``dates_are_gmt``).
    """
    local_text, gmt_text = stamps
    text = gmt_text if use_gmt else local_text
    if text is None:
        return after is None and before is None
    value = datetime.strptime(text, DATE_FORMAT)
    for bound, is_after in ((after, True), (before, False)):
        if bound is None:
            continue
        if bound.tzinfo is not None:
            utc = bound.astimezone(UTC).replace(tzinfo=None)
            limit = utc if use_gmt else utc + timedelta(hours=utc_offset)
        else:
            limit = bound
        if is_after and not value > limit:
            return False
        if not is_after and not value < limit:
            return False
    return True


def sort_records(
    records: list[dict[str, Any]],
    *,
    orderby: str,
    order: str,
    include: list[int],
    keys: dict[str, Callable[[dict[str, Any]], Any]],
) -> list[dict[str, Any]]:
    """WP_Query ordering; ``date``/``modified`` break ties by ID as WooCommerce adds it."""
    if orderby == "include" and include:
        position = {rid: i for i, rid in enumerate(include)}
        return sorted(records, key=lambda r: position.get(int(r["id"]), len(position)))
    key = keys.get(orderby, keys.get("id", lambda r: r["id"]))
    return sorted(
        records,
        key=lambda r: (key(r), int(r["id"])),
        reverse=order == "desc",
    )
