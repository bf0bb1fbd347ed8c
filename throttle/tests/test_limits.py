"""The counter store under the brute-force limits: what the HTTP tests cannot see directly."""

import itertools
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from testing.server import free_port
from testing.throwaway import RedisServer
from throttle import limits
from throttle.models import FailureCounter

LIMIT = limits.Limit("test", "TEST")


@pytest.fixture(autouse=True)
def limit_under_test(settings):
    settings.FAILURE_LIMITS = {**settings.FAILURE_LIMITS, "TEST": (3, 60)}


def fail(subject="subject"):
    attempt = limits.attempt([(LIMIT, subject)])
    if not attempt.wait:
        attempt.failed()
    return attempt


@pytest.mark.django_db
def test_the_window_ends_where_the_first_failure_put_it(frozen_time):
    start = frozen_time[0]
    fail()
    frozen_time[0] += 30
    fail()

    assert FailureCounter.objects.get().expires_at == start + 60
    assert FailureCounter.objects.get().failures == 2


@pytest.mark.django_db
def test_the_count_th_failure_reports_the_limit_reached_once(frozen_time, counter_store):
    reached = []
    for _ in range(3):
        reached.append(limits.attempt([(LIMIT, "s")]).failed())

    assert [failure.reached for failure in reached] == [[], [], [LIMIT]]
    assert [failure.wait for failure in reached] == [0, 0, 0]
    assert limits.attempt([(LIMIT, "s")]).wait == 60


@pytest.mark.django_db
def test_a_refused_attempt_takes_no_place(frozen_time, counter_store):
    other = limits.Limit("other", "TEST")
    for _ in range(3):
        fail()

    assert limits.attempt([(other, "x"), (LIMIT, "subject")]).wait > 0
    # The refusal gave back its place under `other`: three more failures fit there.
    for _ in range(3):
        assert not fail_under(other, "x").wait


def fail_under(limit, subject):
    attempt = limits.attempt([(limit, subject)])
    attempt.failed()
    return attempt


@pytest.mark.django_db
def test_expired_counters_are_purged_and_live_ones_kept(frozen_time, monkeypatch):
    # The store purges on every 16th attempt of the process: start the count afresh, so that the
    # attempts earlier tests made cannot put that purge inside this test.
    monkeypatch.setattr(limits.DatabaseStore, "_attempts", itertools.count(1))
    for n in range(10):
        fail(f"old-{n}")
    frozen_time[0] += 61
    fail("live")

    assert limits.DatabaseStore().purge(now=limits.clock()) == 10
    assert list(FailureCounter.objects.values_list("failures", flat=True)) == [1]


@pytest.mark.django_db
def test_attempts_purge_a_bounded_batch_now_and_then(frozen_time, monkeypatch):
    monkeypatch.setattr(limits.DatabaseStore, "PURGE_BATCH", 5)
    for n in range(40):
        fail(f"old-{n}")
    frozen_time[0] += 61

    for _ in range(limits.DatabaseStore.PURGE_EVERY):
        fail("live")

    # One purge ran within those attempts, and it deleted one batch, not the whole backlog.
    assert FailureCounter.objects.count() == 40 + 1 - 5


def _use_redis(settings, url: str) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}


@pytest.mark.django_db
def test_with_redis_down_the_limits_are_skipped_with_a_warning(settings, caplog):
    _use_redis(settings, f"redis://127.0.0.1:{free_port()}/0")

    with caplog.at_level(logging.WARNING, logger="throttle.limits"):
        attempts = [fail() for _ in range(5)]

    assert all(attempt.wait == 0 for attempt in attempts)
    assert "Brute-force counters unavailable" in caplog.text


@pytest.fixture
def redis_with_policy(settings):
    servers = []

    def start(policy):
        servers.append(RedisServer("--maxmemory-policy", policy).start())
        _use_redis(settings, servers[-1].url)

    yield start
    for server in servers:
        server.close()


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-lru", "volatile-ttl", "allkeys-random"])
def test_a_redis_that_may_evict_counters_is_refused_at_start_up(redis_with_policy, policy):
    redis_with_policy(policy)

    with pytest.raises(ImproperlyConfigured, match=f"maxmemory-policy '{policy}'.*noeviction"):
        limits.check_redis_eviction_policy()


def test_a_redis_that_never_evicts_is_accepted(redis_with_policy):
    redis_with_policy("noeviction")

    limits.check_redis_eviction_policy()


def test_an_unreachable_redis_at_start_up_is_a_warning_not_a_refusal(settings, caplog):
    _use_redis(settings, f"redis://127.0.0.1:{free_port()}/0")

    with caplog.at_level(logging.WARNING, logger="throttle.limits"):
        limits.check_redis_eviction_policy()

    assert "Redis unreachable at start-up" in caplog.text
