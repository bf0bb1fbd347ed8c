import pytest


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
