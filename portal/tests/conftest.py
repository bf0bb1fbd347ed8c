import pytest

from portal.actors import COMMAND_LINE
from portal.members import create_invitation
from portal.models import Membership


@pytest.fixture
def invite(organization):
    """Create an invitation through the service; returns (invitation, token of its link)."""

    def make(email="new@example.com", role=Membership.Role.MEMBER, organization=organization, **kwargs):
        kwargs.setdefault("actor", COMMAND_LINE)
        return create_invitation(organization=organization, email=email, role=role, **kwargs)

    return make
