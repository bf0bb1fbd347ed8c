"""Rotations that race each other or a deletion, on a database where two requests really run at once."""

import threading
import time

import pytest
from django.db import connection
from django.test import Client

from api.tests.helpers import bearer
from applications import services
from applications.models import Application, ClientSecret
from portal.tests.helpers import at_once, slow_down

pytestmark = [
    pytest.mark.skipif(
        connection.vendor == "sqlite",
        reason="the suite's in-memory SQLite database is shared-cache: a second writer fails with 'table is "
        "locked' instead of waiting, so only PostgreSQL can run two requests at once here",
    ),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def slow_rotation(monkeypatch):
    """Each rotation holds its lock a while after counting the live secrets, so the other one overlaps it."""
    slow_down(monkeypatch, services, "_live_secrets")


def test_two_rotations_at_once_leave_two_live_secrets(make_application, get_token, slow_rotation):
    application, secret = make_application(scopes=["update:applications"])
    token = get_token(application, secret)

    def rotate():
        return Client().post(
            f"/api/applications/{application.public_id}/secrets", {}, content_type="application/json", **bearer(token)
        )

    responses = at_once(rotate, rotate)
    assert sorted(response.status_code for response in responses) == [201, 409]
    assert ClientSecret.objects.filter(application=application, revoked_at__isnull=True).count() == 2


@pytest.mark.parametrize("first", ["rotation", "deletion"])
def test_a_rotation_racing_a_deletion_leaves_no_orphan_and_no_500(
    make_application, get_token, admin_membership, monkeypatch, first
):
    application, secret = make_application(scopes=["update:applications"])
    token = get_token(application, secret)
    admin = Client()
    admin.force_login(admin_membership.user)
    # Whichever goes first holds the application's row a while; the other starts only once that lock is taken.
    locked = threading.Event()
    real_lock = services._lock

    def lock_and_hold(application):
        found = real_lock(application)
        if not locked.is_set():
            locked.set()
            time.sleep(0.5)
        return found

    monkeypatch.setattr(services, "_lock", lock_and_hold)

    def rotate():
        if first == "deletion":
            assert locked.wait(timeout=30)
        return Client().post(
            f"/api/applications/{application.public_id}/secrets", {}, content_type="application/json", **bearer(token)
        )

    def delete():
        if first == "rotation":
            assert locked.wait(timeout=30)
        return admin.post(f"/integrations/applications/{application.public_id}/delete/")

    rotated, deleted = at_once(rotate, delete)
    assert deleted.status_code == 302
    # Rotated first: the new secret went with the application. Deleted first: nothing to rotate.
    assert rotated.status_code == (201 if first == "rotation" else 404)
    assert not Application.objects.exists()
    assert not ClientSecret.objects.exists()
