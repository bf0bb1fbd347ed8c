import re

import pytest
from django.test import Client

from portal.actors import COMMAND_LINE
from portal.members import create_invitation
from portal.models import Membership


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def org_admin_client(admin_membership):
    """A test client signed in as the organization's admin (pytest-django's `admin_client` is a superuser)."""
    return signed_in(admin_membership.user)


@pytest.fixture
def member_client(member_membership):
    return signed_in(member_membership.user)


@pytest.fixture
def invite(organization):
    """Create an invitation through the service; returns (invitation, token of its link)."""

    def make(email="new@example.com", role=Membership.Role.MEMBER, organization=organization, **kwargs):
        kwargs.setdefault("actor", COMMAND_LINE)
        return create_invitation(organization=organization, email=email, role=role, **kwargs)

    return make


def form_token_of(page: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page).group(1)


def invitation_link_of(page: str) -> str:
    return re.search(r'data-testid="invitation-link">([^<]+)<', page).group(1)

