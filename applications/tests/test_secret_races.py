"""Rotations that race each other or a deletion, on a database where two requests really run at once."""

import pytest
from django.test import Client

from api.tests.helpers import bearer
from applications import services
from applications.models import Application, ClientSecret
from portal.tests.helpers import at_once, hold_first_call
from testing.databases import two_writers_at_once

pytestmark = [
    two_writers_at_once,
    pytest.mark.django_db(transaction=True),
]


def test_two_rotations_at_once_leave_two_live_secrets(make_application, get_token, monkeypatch):
    application, secret = make_application(scopes=["update:applications"])
    token = get_token(application, secret)
    # The first to count the live secrets is held there until the other rotation meets it: waiting for the
    # application's lock, or (without the lock) counting one live secret too.
    gate = hold_first_call(monkeypatch, services, "_live_secrets")

    def rotate():
        return Client().post(
            f"/api/applications/{application.public_id}/secrets", {}, content_type="application/json", **bearer(token)
        )

    responses = at_once(rotate, rotate, meanwhile=gate.overlap)
    assert sorted(response.status_code for response in responses) == [201, 409], gate.met
    assert ClientSecret.objects.filter(application=application, revoked_at__isnull=True).count() == 2


@pytest.mark.parametrize("first", ["rotation", "deletion"])
def test_a_rotation_racing_a_deletion_leaves_no_orphan_and_no_500(
    make_application, get_token, admin_membership, monkeypatch, first
):
    application, secret = make_application(scopes=["update:applications"])
    token = get_token(application, secret)
    admin = Client()
    admin.force_login(admin_membership.user)
    # `first` takes the application's lock and is held there; the other starts only then, and `first` goes on
    # once the other waits for that lock (or, without the lock, has taken it too).
    gate = hold_first_call(monkeypatch, services, "_lock")

    def rotate():
        if first == "deletion":
            assert gate.inside.wait(timeout=30)
        return Client().post(
            f"/api/applications/{application.public_id}/secrets", {}, content_type="application/json", **bearer(token)
        )

    def delete():
        if first == "rotation":
            assert gate.inside.wait(timeout=30)
        return admin.post(f"/integrations/applications/{application.public_id}/delete/")

    rotated, deleted = at_once(rotate, delete, meanwhile=gate.overlap)
    assert deleted.status_code == 302
    # Rotated first: the new secret went with the application. Deleted first: nothing to rotate.
    assert rotated.status_code == (201 if first == "rotation" else 404), gate.met
    assert not Application.objects.exists()
    assert not ClientSecret.objects.exists()
