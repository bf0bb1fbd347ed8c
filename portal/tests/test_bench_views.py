import importlib

import pytest
from django.urls import clear_url_caches

import portal.urls

BENCH_PATHS = ["/bench/ping", "/bench/credentials", "/bench/stock"]


@pytest.fixture
def bench_views_enabled(settings):
    """The URLconf as `make bench` builds it (BENCHMARK_VIEWS=true), restored afterwards."""
    settings.BENCHMARK_VIEWS = True
    importlib.reload(portal.urls)
    clear_url_caches()
    yield
    settings.BENCHMARK_VIEWS = False
    importlib.reload(portal.urls)
    clear_url_caches()


def test_benchmark_views_are_off_by_default(settings):
    assert settings.BENCHMARK_VIEWS is False


@pytest.mark.parametrize("path", BENCH_PATHS)
def test_benchmark_views_answer_404_in_a_normal_deployment(client, db, path):
    assert client.get(path).status_code == 404


def test_the_unauthenticated_ping_exists_only_when_the_benchmark_enables_it(client, db, bench_views_enabled):
    response = client.get("/bench/ping")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_stock_toolkit_view_needs_a_token_with_the_scope_and_serves_nothing(
    client, bench_views_enabled, make_application
):
    from applications.tests.oauth_helpers import request_token

    reader, reader_secret = make_application(name="Reader", scopes=["read:credentials"])
    writer, writer_secret = make_application(name="Writer", scopes=["create:credentials"])
    read = request_token(client, reader, reader_secret).json()["access_token"]
    write = request_token(client, writer, writer_secret).json()["access_token"]

    assert client.get("/bench/stock").status_code == 401
    assert client.get("/bench/stock", HTTP_AUTHORIZATION=f"Bearer {write}").status_code == 403
    response = client.get("/bench/stock", HTTP_AUTHORIZATION=f"Bearer {read}")
    assert response.status_code == 200
    assert response.json() == []
