import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.services import delete_application
from portal.actors import Actor


@pytest.fixture
def signed_in(client, admin_user):
    client.force_login(admin_user)
    return client


def test_portal_changes_are_recorded_with_the_user_and_address(signed_in, make_application, admin_user):
    application, _ = make_application(name="Sync")

    signed_in.post(
        f"/integrations/applications/{application.public_id}/",
        {"name": "Sync 2", "description": "Nightly"},
        REMOTE_ADDR="192.0.2.10",
    )
    page = signed_in.get(f"/integrations/applications/{application.public_id}/").content.decode()

    assert "History" in page
    assert "192.0.2.10" in page
    assert "“Sync” → “Sync 2”" in page
    assert admin_user.username in page


def test_the_activity_page_keeps_a_deleted_applications_records(signed_in, make_application, admin_membership):
    application, _ = make_application(name="Short-lived")
    delete_application(application=application, actor=Actor.for_member(admin_membership))

    response = signed_in.get("/integrations/activity/")

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("Short-lived") == 2  # created and deleted
    assert "Deleted" in page


def test_the_activity_page_shows_only_the_organizations_records(signed_in, make_application, other_organization):
    make_application(name="Ours")
    make_application(name="Theirs", organization=other_organization)

    page = signed_in.get("/integrations/activity/").content.decode()

    assert "Ours" in page
    assert "Theirs" not in page


def test_members_see_the_activity_page(client, member_membership, make_application):
    make_application(name="Visible")
    client.force_login(member_membership.user)

    assert "Visible" in client.get("/integrations/activity/").content.decode()


def test_the_activity_page_needs_a_signed_in_member(client, db):
    assert client.get("/integrations/activity/").status_code == 302


def test_the_activity_page_costs_the_same_queries_for_more_records(
    signed_in, make_application, django_assert_num_queries
):
    application, _ = make_application(name="Sync")
    with CaptureQueriesContext(connection) as with_one:
        signed_in.get("/integrations/activity/")
    queries_for_one_record = len(with_one)  # read now: the next request empties the connection's log
    for n in range(3):
        signed_in.post(f"/integrations/applications/{application.public_id}/", {"name": "Sync", "description": f"v{n}"})
        make_application(name=f"More {n}")

    with django_assert_num_queries(queries_for_one_record):
        response = signed_in.get("/integrations/activity/")

    assert response.content.decode().count('<td data-label="When">') == 7


def test_the_activity_page_marks_activity_and_not_applications_as_current(signed_in):
    html = signed_in.get(reverse("applications:activity")).content.decode()

    assert 'href="/integrations/activity/" class="active" aria-current="page">Activity</a>' in html
    assert 'href="/integrations/applications/">Applications</a>' in html
