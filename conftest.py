import io
import logging
import os
import uuid

import pytest

from applications.services import create_application
from applications.tests.oauth_helpers import request_token
from ops.logging import JsonFormatter, RedactSecretsFilter
from portal.actors import COMMAND_LINE
from portal.models import Membership
from portal.tests.factories import MembershipFactory, OrganizationFactory
from portal.tests.helpers import signed_in
from testing.throwaway import RedisServer
from throttle import limits


@pytest.fixture(autouse=True)
def counters_reachable():
    # A test that takes the counter store away pauses the limits in this process; the next test starts afresh.
    limits._pause.until = 0.0


@pytest.fixture(autouse=True)
def fast_user_passwords(settings):
    # Tests sign users in many times; PBKDF2's million rounds would dominate the suite.
    # The client secret hasher is untouched (the toolkit finds it by name).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]


@pytest.fixture
def organization(db):
    return OrganizationFactory(name="Acme Corp", slug="acme-corp")


@pytest.fixture
def other_organization(db):
    return OrganizationFactory(name="Globex", slug="globex")


@pytest.fixture
def admin_membership(organization):
    return MembershipFactory(organization=organization, role=Membership.Role.ADMIN)


@pytest.fixture
def member_membership(organization):
    return MembershipFactory(organization=organization, role=Membership.Role.MEMBER)


@pytest.fixture
def admin_user(admin_membership):
    return admin_membership.user


@pytest.fixture
def admin_portal_client(admin_membership):
    """A test client signed in as the organization's admin (pytest-django's `admin_client` is a superuser)."""
    return signed_in(admin_membership.user)


@pytest.fixture
def member_client(member_membership):
    return signed_in(member_membership.user)


@pytest.fixture
def make_application(organization):
    """Create an application through the service; returns (application, plaintext secret)."""

    def make(
        name="Nightly sync", scopes=("read:credentials", "create:credentials"), organization=organization, **kwargs
    ):
        kwargs.setdefault("actor", COMMAND_LINE)
        return create_application(organization=organization, name=name, scopes=list(scopes), **kwargs)

    return make


@pytest.fixture
def get_token(client):
    """An access token for (application, secret), issued by the real endpoint."""

    def get(application, secret, **params):
        response = request_token(client, application, secret, **params)
        assert response.status_code == 200, response.content
        return response.json()["access_token"]

    return get


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, driven by Playwright (never a downloaded browser)."""
    import os

    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls tests make
    # next to it are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    # The live server serves /static/ from the finders, which know no manifest-hashed names.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def signed_in_page(page, admin_user):
    """A page signed in as the organization's admin."""
    from portal.tests.browser.helpers import sign_in

    sign_in(page, admin_user.username)
    return page


def _console_handler() -> logging.Handler:
    """The portal's configured log handler (settings.LOGGING's console), found by its redaction filter."""
    return next(
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, RedactSecretsFilter) for f in handler.filters)
    )


@pytest.fixture
def written_log():
    """What the portal's configured log handler writes, as text."""
    handler = _console_handler()
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.fixture(params=["text", "json"])
def log_format(request):
    """Runs a test once with each LOG_FORMAT the configured handler can write."""
    handler = _console_handler()
    previous = handler.formatter
    if request.param == "json":
        handler.setFormatter(JsonFormatter())
    yield request.param
    handler.setFormatter(previous)


@pytest.fixture(scope="session")
def redis_url():
    """TEST_REDIS_URL, or a redis-server of the suite's own (CI installs the package)."""
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    server = RedisServer("--maxmemory-policy", "noeviction").start()
    yield server.url
    server.close()


@pytest.fixture(params=["database", "redis"])
def counter_store(request, settings):
    """Runs a test once with the counters in the database and once in Redis (CACHE_URL=redis://…)."""
    if request.param == "redis":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": request.getfixturevalue("redis_url"),
                # A prefix of the test's own: a shared TEST_REDIS_URL is never flushed.
                "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            }
        }
    return request.param


@pytest.fixture
def frozen_time(monkeypatch):
    """Wall-clock time stands still until the test moves it (`frozen_time[0] += seconds`).

    Both clocks move together, Python's and Django's, so every expiry follows: the
    brute-force windows, and any cache entry's or session's too.
    """
    import datetime as dt
    import time

    now = [1_800_000_000.0]

    def django_now():
        return dt.datetime.fromtimestamp(now[0], tz=dt.UTC)

    monkeypatch.setattr(time, "time", lambda: now[0])
    monkeypatch.setattr("django.utils.timezone.now", django_now)
    monkeypatch.setattr("django.core.cache.backends.db.tz_now", django_now)  # imported by name there
    return now


@pytest.fixture
def issuer(settings):
    """A local OpenID Connect issuer (discovery, JWKS, GitHub-like workload tokens) on a free loopback port, listed in
    FEDERATION_INSECURE_ISSUERS as a development issuer would be."""
    from applications.tests.issuer_helpers import LocalIssuer
    from testing.documents import DocumentServer

    with DocumentServer() as server:
        local = LocalIssuer(server)
        settings.FEDERATION_INSECURE_ISSUERS = [local.url]
        yield local
