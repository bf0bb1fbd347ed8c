import pytest
from django.test import Client

from portal.models import Membership
from portal.tests.factories import MembershipFactory


@pytest.fixture
def admin_portal_client(admin_membership):
    """A test client signed in as the organization's admin (pytest-django's `admin_client` is a superuser)."""
    client = Client()
    client.force_login(admin_membership.user)
    return client


@pytest.fixture
def member_client(member_membership):
    client = Client()
    client.force_login(member_membership.user)
    return client


@pytest.fixture
def other_application(make_application, other_organization):
    """An application of another organization, with its secret."""
    return make_application(name="Globex sync", organization=other_organization)


@pytest.fixture
def new_application_data():
    """A valid creation form, as the browser posts it."""

    def data(**overrides):
        return {
            "name": "Nightly sync",
            "description": "Copies credentials every night.",
            "scopes": ["read:credentials", "create:credentials"],
            "form_token": "t" * 43,
            **overrides,
        }

    return data


@pytest.fixture
def member_of_two(organization, other_organization):
    """A user who is an admin of both organizations."""
    membership = MembershipFactory(organization=organization, role=Membership.Role.ADMIN)
    MembershipFactory(user=membership.user, organization=other_organization, role=Membership.Role.ADMIN)
    return membership.user
