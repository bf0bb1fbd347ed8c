"""The frame around every page: where the root leads, the top bar, the navigation and the organization switcher."""

import re

import pytest
from django.test import Client

from portal.models import Membership
from portal.tests.factories import MembershipFactory, UserFactory

APPLICATIONS_URL = "/integrations/applications/"


@pytest.fixture
def member_of_two(organization, other_organization):
    """A user who is an admin of both organizations."""
    membership = MembershipFactory(organization=organization, role=Membership.Role.ADMIN)
    MembershipFactory(user=membership.user, organization=other_organization, role=Membership.Role.ADMIN)
    return membership.user


@pytest.mark.django_db
def test_root_leads_anonymous_visitors_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_root_leads_signed_in_users_to_the_applications_list(admin_portal_client):
    response = admin_portal_client.get("/")
    assert response.status_code == 302 and response["Location"] == APPLICATIONS_URL


def test_layout_shows_product_organization_user_and_sign_out(admin_portal_client, admin_user):
    html = admin_portal_client.get(APPLICATIONS_URL).content.decode()
    assert "Integrations Portal" in html
    assert "<strong>Acme Corp</strong>" in html
    assert f"Signed in as <strong>{admin_user.username}</strong>" in html
    assert re.search(r'<form method="post" action="/accounts/logout/">.*?Sign out</button></form>', html, re.S)
    assert 'id="organization-switcher"' not in html


def test_nav_marks_applications_as_the_current_page(admin_portal_client, make_application):
    application, _ = make_application()
    list_html = admin_portal_client.get(APPLICATIONS_URL).content.decode()
    assert 'class="active" aria-current="page">Applications</a>' in list_html
    detail_html = admin_portal_client.get(f"{APPLICATIONS_URL}{application.public_id}/").content.decode()
    assert 'class="active" aria-current="true">Applications</a>' in detail_html


@pytest.mark.django_db
def test_user_without_an_organization_gets_403(client):
    client.force_login(UserFactory())
    assert client.get(APPLICATIONS_URL).status_code == 403


def test_switcher_lists_every_organization_and_switches(member_of_two, make_application, other_organization):
    make_application(name="Acme job")
    make_application(name="Globex job", organization=other_organization)
    client = Client()
    client.force_login(member_of_two)
    html = client.get(APPLICATIONS_URL).content.decode()
    assert 'id="organization-switcher"' in html
    assert '<option value="acme-corp" selected>Acme Corp</option>' in html
    assert '<option value="globex">Globex</option>' in html
    assert "Acme job" in html and "Globex job" not in html

    response = client.post("/organizations/switch/", {"organization": "globex"})
    assert response.status_code == 302 and response["Location"] == APPLICATIONS_URL
    html = client.get(APPLICATIONS_URL).content.decode()
    assert '<option value="globex" selected>Globex</option>' in html
    assert "Globex job" in html and "Acme job" not in html


def test_switcher_refuses_an_organization_the_user_is_not_in(admin_portal_client, other_organization):
    assert admin_portal_client.post("/organizations/switch/", {"organization": "globex"}).status_code == 404
