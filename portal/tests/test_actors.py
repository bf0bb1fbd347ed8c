import pytest
from django.core.exceptions import PermissionDenied

from portal.actors import COMMAND_LINE, Actor, may_manage, require_manager
from portal.models import Membership
from portal.tests.factories import MembershipFactory


def test_admins_of_the_organization_may_manage_it(organization, admin_membership):
    assert may_manage(Actor.for_member(admin_membership), organization)


def test_members_and_admins_elsewhere_may_not(organization, other_organization, member_membership):
    outsider = MembershipFactory(organization=other_organization, role=Membership.Role.ADMIN)

    assert not may_manage(Actor.for_member(member_membership), organization)
    assert not may_manage(Actor.for_member(outsider), organization)


def test_an_api_client_manages_only_its_own_organization(organization, other_organization, make_application):
    application, _ = make_application()

    assert may_manage(Actor(label="client", application=application), organization)
    assert not may_manage(Actor(label="client", application=application), other_organization)


def test_trust_is_declared_never_implied(organization):
    with pytest.raises(PermissionDenied):
        require_manager(Actor.server("token endpoint"), organization)
    require_manager(COMMAND_LINE, organization)
