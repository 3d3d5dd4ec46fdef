"""Benchmark only: counts the SQL statements each request runs, in an X-Arrow-Queries header.

Installed by settings only when ARROW_COUNT_QUERIES is on (the benchmark's server), so production
requests never pay for it. Counts what goes through Django's cursors: the statements of the view
and of every middleware after this one; transaction BEGIN/COMMIT are not statements here.
"""

from __future__ import annotations

from django.db import connection


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counted(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            response = self.get_response(request)
        response["X-Arrow-Queries"] = str(count)
        return response
