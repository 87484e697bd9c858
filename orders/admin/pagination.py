"""A paginator whose cost does not grow with the table: it counts at most ``cap`` rows.

Django's paginator runs ``SELECT COUNT(*)`` over every matching row on each changelist
page, a cost that grows with the table (docs/benchmarks.md). This one counts
``SELECT COUNT(*) FROM (SELECT id ... LIMIT cap + 1)``: exact up to ``cap``, and beyond it
the page says "more than <cap>" (its template) instead of a number it does not know.
Pages past the counted rows stay reachable (``?p=`` any page); they show what is there.
A page's rows are fetched by id (see ``_rows``) so a late page costs its offset in index
entries, not in joined rows.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet


class CappedCountPaginator(Paginator):
    cap = 10_000
    # unfold's admin/pagination.html includes ``cl.paginator.template_name`` when set.
    template_name = "orders/admin/pagination.html"

    @cached_property
    def _counted(self) -> tuple[int, bool]:
        # Above one page, so that the admin still paginates when the count is capped.
        cap = max(self.cap, int(self.per_page) + 1)
        rows = self.object_list
        # No ORDER BY: the database may count along any index; the cap bounds the work.
        n = rows.order_by()[: cap + 1].count() if isinstance(rows, QuerySet) else len(rows)
        return min(n, cap), n > cap

    @property
    def count(self) -> int:  # type: ignore[override]
        return self._counted[0]

    @property
    def is_capped(self) -> bool:
        """True when there are more rows than were counted (``count`` is a lower bound)."""
        return self._counted[1]

    def validate_number(self, number: Any) -> int:
        if not self.is_capped:
            return int(super().validate_number(number))
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if not self.is_capped and top + self.orphans >= self.count:
            top = self.count
        return Page(self._rows(bottom, top), number, self)

    def _rows(self, bottom: int, top: int) -> Any:
        """The page's rows. For a plain queryset, a "deferred join": the OFFSET walks the
        ids along the ordering's index (``id IN (SELECT id ... LIMIT/OFFSET)``) and only
        the page's rows are read and joined to their channel and customer. Joining first
        makes a late page look up a customer for every skipped row. The outer query
        repeats none of the filters: the 50 ids already satisfy them."""
        rows = self.object_list
        if not isinstance(rows, QuerySet) or rows.query.annotations or rows.query.extra:
            return rows[bottom:top]
        ids = rows.values("pk")[bottom:top]
        page = rows.model._default_manager.filter(pk__in=ids)
        page.query.select_related = rows.query.select_related
        page.query.deferred_loading = rows.query.deferred_loading
        ordering = rows.query.order_by or rows.model._meta.ordering
        prefetch = getattr(rows, "_prefetch_related_lookups", ())
        return page.prefetch_related(*prefetch).order_by(*ordering)
