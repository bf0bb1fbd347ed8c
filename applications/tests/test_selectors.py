import pytest
from django.http import Http404

from applications.selectors import get_application, get_unrevoked_secret


def test_get_application_hands_back_the_organization_it_was_scoped_to(
    make_application, organization, django_assert_num_queries
):
    application, _ = make_application()
    found = get_application(organization=organization, public_id=application.public_id)
    with django_assert_num_queries(0):
        assert found.organization is organization


def test_get_application_still_refuses_another_organizations_application(other_application, organization):
    with pytest.raises(Http404):
        get_application(organization=organization, public_id=other_application[0].public_id)


def test_get_unrevoked_secret_hands_back_the_application_it_was_asked_about(
    make_application, organization, django_assert_num_queries
):
    application, _ = make_application()
    found = get_application(organization=organization, public_id=application.public_id)
    secret = get_unrevoked_secret(application=found, public_id=application.secrets.get().public_id)
    with django_assert_num_queries(0):
        assert secret.application is found
        assert secret.application.organization is organization
