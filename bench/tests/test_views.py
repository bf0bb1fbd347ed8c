import importlib

import pytest
from django.urls import clear_url_caches

import config.urls
from api.examples import VERIFIABLE_CREDENTIAL
from api.models import Credential
from bench.views import BENCH_ORGANIZATION_SLUG
from portal.tests.factories import OrganizationFactory

BENCH_PATHS = ["/bench/ping", "/bench/credentials", "/bench/stock"]


@pytest.fixture
def urlconf_built_with(settings):
    """Rebuild the root URLconf as a process with the given BENCHMARK_VIEWS would; restored afterwards."""

    def build(enabled: bool):
        settings.BENCHMARK_VIEWS = enabled
        importlib.reload(config.urls)
        clear_url_caches()

    yield build
    settings.BENCHMARK_VIEWS = False
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.fixture
def bench_organization(monkeypatch, db):
    # The benchmark's views keep the organization per process; this test's row must not outlive it.
    monkeypatch.setattr("bench.views._bench_organization", None)
    return OrganizationFactory(slug=BENCH_ORGANIZATION_SLUG)


@pytest.mark.parametrize("path", BENCH_PATHS)
def test_benchmark_views_answer_404_in_a_normal_deployment(client, db, urlconf_built_with, path):
    urlconf_built_with(False)

    assert client.get(path).status_code == 404


def test_the_unauthenticated_ping_exists_only_when_the_benchmark_enables_it(client, db, urlconf_built_with):
    urlconf_built_with(True)

    response = client.get("/bench/ping")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_open_credential_list_serves_the_bench_organization_without_a_token(
    client, urlconf_built_with, bench_organization
):
    credential = Credential.objects.create(organization=bench_organization, document=VERIFIABLE_CREDENTIAL)
    Credential.objects.create(organization=OrganizationFactory(), document=VERIFIABLE_CREDENTIAL)
    urlconf_built_with(True)

    response = client.get("/bench/credentials")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [str(credential.public_id)]


def test_the_stock_toolkit_view_needs_a_token_with_the_scope_and_serves_nothing(
    client, urlconf_built_with, make_application
):
    from applications.tests.oauth_helpers import request_token

    urlconf_built_with(True)
    reader, reader_secret = make_application(name="Reader", scopes=["read:credentials"])
    writer, writer_secret = make_application(name="Writer", scopes=["create:credentials"])
    read = request_token(client, reader, reader_secret).json()["access_token"]
    write = request_token(client, writer, writer_secret).json()["access_token"]

    assert client.get("/bench/stock").status_code == 401
    assert client.get("/bench/stock", HTTP_AUTHORIZATION=f"Bearer {write}").status_code == 403
    response = client.get("/bench/stock", HTTP_AUTHORIZATION=f"Bearer {read}")
    assert response.status_code == 200
    assert response.json() == []
