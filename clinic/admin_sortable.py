"""Drag-and-drop order in admin lists (django-admin-sortable2) that shows on the site at once.

The library saves a new order with bulk updates, which send no save signals, so
the page cache (clinic/page_cache.py) would keep the old order until it expired.
"""

from adminsortable2.admin import SortableAdminMixin as LibrarySortableAdminMixin

from clinic import page_cache


class SortableAdminMixin(LibrarySortableAdminMixin):
    def update_order(self, request):
        response = super().update_order(request)
        page_cache.invalidate()
        return response

    def _bulk_move(self, request, queryset, method):
        result = super()._bulk_move(request, queryset, method)
        page_cache.invalidate()
        return result
