import pytest

from api.examples import VERIFIABLE_CREDENTIAL
from api.models import Credential
from api.tests.helpers import ALL_SCOPES


@pytest.fixture
def token_with(make_application, get_token):
    """An access token of a new application of the organization holding exactly `scopes`."""
    made = []

    def make(*scopes, organization=None):
        kwargs = {"organization": organization} if organization is not None else {}
        application, secret = make_application(name=f"Client {len(made) + 1}", scopes=scopes, **kwargs)
        made.append(application)
        return get_token(application, secret)

    return make


@pytest.fixture
def full_token(token_with):
    return token_with(*ALL_SCOPES)


@pytest.fixture
def make_credential(organization):
    def make(organization=organization, **fields):
        return Credential.objects.create(
            organization=organization, document=fields.pop("document", VERIFIABLE_CREDENTIAL), **fields
        )

    return make


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()
