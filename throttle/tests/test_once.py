"""Values accepted once, in the database and in Redis: what the assertion tests cannot see directly."""

import itertools
import logging

import pytest

from testing.server import free_port
from throttle import once
from throttle.models import ClaimedOnce


@pytest.mark.django_db
def test_a_value_is_claimed_once_until_its_end(frozen_time, counter_store):
    now = frozen_time[0]

    assert once.claim_once("client\njti-1", until=now + 60) is True
    assert once.claim_once("client\njti-1", until=now + 60) is False
    assert once.claim_once("client\njti-2", until=now + 60) is True
    frozen_time[0] += 59
    assert once.claim_once("client\njti-1", until=now + 600) is False


@pytest.mark.django_db
def test_an_ended_claim_may_be_claimed_again(frozen_time, counter_store):
    now = frozen_time[0]
    once.claim_once("s", until=now + 60)
    frozen_time[0] += 60

    assert once.claim_once("s", until=now + 120) is True
    assert once.claim_once("s", until=now + 120) is False


@pytest.mark.django_db
def test_ended_claims_are_purged_a_bounded_batch_at_a_time(frozen_time, monkeypatch):
    monkeypatch.setattr(once.DatabaseStore, "_claims", itertools.count(1))
    monkeypatch.setattr(once.DatabaseStore, "PURGE_BATCH", 5)
    for n in range(20):
        once.claim_once(f"old-{n}", until=frozen_time[0] + 60)
    frozen_time[0] += 61

    # Up to the next multiple of PURGE_EVERY claims: one purge runs, on the last of them.
    live = once.DatabaseStore.PURGE_EVERY - 20 % once.DatabaseStore.PURGE_EVERY
    for n in range(live):
        once.claim_once(f"live-{n}", until=frozen_time[0] + 60)

    assert ClaimedOnce.objects.filter(expires_at__lte=frozen_time[0]).count() == 20 - 5
    assert ClaimedOnce.objects.filter(expires_at__gt=frozen_time[0]).count() == live


@pytest.mark.django_db
def test_the_store_keeps_a_hash_of_the_value_only(frozen_time):
    once.claim_once("client-id\nthe-jti-value", until=frozen_time[0] + 60)

    (key,) = ClaimedOnce.objects.values_list("key", flat=True)
    assert "the-jti-value" not in key and len(key) == 64


@pytest.mark.django_db
def test_with_redis_down_nothing_is_claimed_and_a_warning_says_so(settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }

    with caplog.at_level(logging.WARNING, logger="throttle.once"):
        with pytest.raises(once.Unavailable):
            once.claim_once("s", until=2e9)
        # And at once for a moment after, without waiting for Redis again.
        with pytest.raises(once.Unavailable):
            once.claim_once("t", until=2e9)

    assert caplog.text.count("Claim store unavailable") == 1
