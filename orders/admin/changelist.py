"""The order list sorts only by the columns it offers (``ModelAdmin.sortable_by``).

Django's changelist hides the sort links of the other columns but still obeys a
hand-typed ``?o=<index>`` for any column with an ordering field; at a million orders an
unindexed sort (customer, channel, total) reads the whole table. Here a column outside
``sortable_by`` is ignored in ``?o=``, as a column without an ordering field already is.
"""

from __future__ import annotations

from typing import Any

from unfold.views import ChangeList


class SortableOnlyChangeList(ChangeList):
    def get_ordering_field(self, field_name: str) -> Any:
        if self.sortable_by is not None and field_name not in self.sortable_by:
            return None
        return super().get_ordering_field(field_name)
