"""The benchmark's query counter: present only when asked for, and counting what ran."""

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory

from arrow.querycount import QueryCountMiddleware

pytestmark = pytest.mark.django_db


def test_query_count_middleware_is_off_unless_the_benchmark_asks():
    assert "arrow.querycount.QueryCountMiddleware" not in django_settings.MIDDLEWARE


def test_query_count_header_counts_the_statements_of_the_request():
    def view(request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.execute("SELECT 2")
        return HttpResponse("ok")

    response = QueryCountMiddleware(view)(RequestFactory().get("/"))
    assert response["X-Arrow-Queries"] == "2"
