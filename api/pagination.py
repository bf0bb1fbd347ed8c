from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response


class Pagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def plain_page_number(self, request) -> int | None:
        """The page asked for when it is a plain number from 1 up (or absent); None for anything else.

        Anything else ("last", "0", "x", a number too large for an SQL OFFSET) takes DRF's own
        path, which knows what to answer.
        """
        given = request.query_params.get(self.page_query_param) or "1"
        plain = given.isascii() and given.isdigit() and len(given) <= 9 and int(given) >= 1
        return int(given) if plain else None

    def paginated_rows(self, request, *, number: int, size: int, count: int, results: list) -> Response:
        """DRF's paginated response for rows already read: page `number` of `size` rows, `count` in all."""
        self.request = request
        # The very Page DRF builds, over a range of the same length in place of the queryset: same links, same count.
        self.page = self.django_paginator_class(range(count), size).page(number)
        return self.get_paginated_response(results)
