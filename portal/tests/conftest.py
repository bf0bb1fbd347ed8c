import pytest

from portal.actors import Actor
from portal.models import Membership
from portal.selectors import members_of
from portal.services import create_invitation
from portal.tests.factories import MembershipFactory


@pytest.fixture
def invite(organization):
    """Create an invitation through the service; returns (invitation, token of its link).

    By default its creator is the organization's first admin, made when it has none: an invitation works only
    while its creator is an admin.
    """

    def make(email="new@example.com", role=Membership.Role.MEMBER, organization=organization, **kwargs):
        if "actor" not in kwargs:
            admin = members_of(organization).filter(role=Membership.Role.ADMIN).first()
            kwargs["actor"] = Actor.for_member(admin or MembershipFactory(organization=organization))
        return create_invitation(organization=organization, email=email, role=role, **kwargs)

    return make
