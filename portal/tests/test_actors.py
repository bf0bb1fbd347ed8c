import pytest
from django.core.exceptions import PermissionDenied

from portal.actors import (
    COMMAND_LINE,
    Actor,
    ScopeEscalation,
    may_administer,
    may_change_access,
    require_admin,
    require_no_escalation,
)
from portal.models import Membership
from portal.tests.factories import MembershipFactory


def test_admins_of_the_organization_may_manage_it(organization, admin_membership):
    assert may_administer(Actor.for_member(admin_membership), organization)


def test_members_and_admins_elsewhere_may_not(organization, other_organization, member_membership):
    outsider = MembershipFactory(organization=other_organization, role=Membership.Role.ADMIN)

    assert not may_administer(Actor.for_member(member_membership), organization)
    assert not may_administer(Actor.for_member(outsider), organization)


def test_an_api_client_manages_only_its_own_organization(organization, other_organization, make_application):
    application, _ = make_application()

    assert may_administer(Actor(label="client", application=application), organization)
    assert not may_administer(Actor(label="client", application=application), other_organization)


def test_trust_is_declared_never_implied(organization):
    with pytest.raises(PermissionDenied):
        require_admin(Actor.server("token endpoint"), organization)
    require_admin(COMMAND_LINE, organization)


def test_an_api_client_manages_the_access_only_of_applications_within_its_scopes(make_application):
    client, _ = make_application(name="Client", scopes=["read:credentials", "update:applications"])
    within, _ = make_application(name="Within", scopes=["read:credentials"])
    beyond, _ = make_application(name="Beyond", scopes=["read:credentials", "read:organizations"])
    actor = Actor(label="client", application=client)

    assert may_change_access(actor, client) and may_change_access(actor, within)
    assert not may_change_access(actor, beyond)
    with pytest.raises(ScopeEscalation):
        require_no_escalation(actor, beyond)


def test_admins_and_the_command_line_manage_any_applications_access(
    make_application, admin_membership, member_membership
):
    application, _ = make_application(scopes=["read:organizations", "delete:applications"])

    assert may_change_access(Actor.for_member(admin_membership), application)
    assert may_change_access(COMMAND_LINE, application)
    assert not may_change_access(Actor.for_member(member_membership), application)
    with pytest.raises(PermissionDenied, match="Only the organization's admins"):
        require_no_escalation(Actor.for_member(member_membership), application)


def test_another_organizations_client_manages_no_access_even_within_its_scopes(make_application, other_organization):
    application, _ = make_application(scopes=["read:credentials"])
    outsider, _ = make_application(name="Outsider", scopes=["read:credentials"], organization=other_organization)

    assert not may_change_access(Actor(label="client", application=outsider), application)
