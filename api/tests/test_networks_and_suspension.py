"""The API of contract §11: allowedNetworks and suspended on an application, lastUsedAddress on its secrets."""

import json

import pytest

from api.tests.helpers import bearer
from applications.models import Application, AuditEvent
from applications.tests.oauth_helpers import FORM, basic_auth, request_token


@pytest.fixture
def caller(make_application, get_token):
    # The target's scopes are among the caller's: the no-escalation rule lets it change the target.
    application, secret = make_application(
        name="Admin script", scopes=["read:credentials", "read:applications", "update:applications"]
    )
    return application, get_token(application, secret)


@pytest.fixture
def target(make_application):
    return make_application(name="Nightly sync", scopes=["read:credentials"])


def url(application):
    return f"/api/applications/{application.public_id}"


def patch(client, token, application, body, **extra):
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.patch(url(application), raw, content_type="application/json", **bearer(token), **extra)


def test_allowed_networks_are_set_spelled_one_way_and_read_back(client, caller, target):
    _, token = caller
    application, secret = target

    response = patch(client, token, application, {"allowedNetworks": ["2001:DB8::/32", "198.51.100.7/32"]})

    assert response.status_code == 200
    assert response.json()["allowedNetworks"] == ["2001:db8::/32", "198.51.100.7"]
    assert client.get(url(application), **bearer(token)).json()["allowedNetworks"] == ["2001:db8::/32", "198.51.100.7"]
    assert request_token(client, application, secret).status_code == 401  # the test client is 127.0.0.1
    assert AuditEvent.objects.get(application=application, action="updated").changes == {
        "allowed_networks": [[], ["2001:db8::/32", "198.51.100.7"]]
    }

    assert patch(client, token, application, {"allowedNetworks": []}).json()["allowedNetworks"] == []
    assert request_token(client, application, secret).status_code == 200


@pytest.mark.parametrize(
    ("networks", "errors"),
    [
        (["198.51.100.0/24", "intranet"], ["“intranet” is not an IP address or CIDR range."]),
        (
            ["198.51.100.7/24"],
            ["“198.51.100.7/24” has bits set after its prefix length: write 198.51.100.0/24 for the range."],
        ),
        (["fe80::1%eth0"], ["“fe80::1%eth0” names an interface (%…): give the address or range without it."]),
        ([f"198.51.{n}.0/24" for n in range(51)], ["Give at most 50 networks (51 were given)."]),
        ("198.51.100.0/24", ["Give a list of IP addresses and CIDR ranges, each a string."]),
        ([198], ["Give a list of IP addresses and CIDR ranges, each a string."]),
        (None, ["This field may not be null."]),
    ],
    ids=["a name", "host bits", "a zone", "51 entries", "a string", "a number", "null"],
)
def test_a_bad_network_is_a_400_naming_it_and_nothing_changes(client, caller, target, networks, errors):
    _, token = caller
    application, _ = target

    response = patch(client, token, application, {"allowedNetworks": networks})

    assert response.status_code == 400
    assert response.json() == {"allowedNetworks": errors}
    application.refresh_from_db()
    assert application.allowed_networks == []


def test_suspended_is_set_and_read_back_and_resuming_restores_tokens(client, caller, target, get_token):
    _, token = caller
    application, secret = target
    targets_token = get_token(application, secret)

    response = patch(client, token, application, {"suspended": True})

    assert response.status_code == 200 and response.json()["suspended"] is True
    assert client.get(url(application), **bearer(token)).json()["suspended"] is True
    assert request_token(client, application, secret).status_code == 401
    assert client.get("/api/credentials", **bearer(targets_token)).status_code == 401
    assert patch(client, token, application, {"suspended": False}).json()["suspended"] is False
    assert client.get("/api/credentials", **bearer(targets_token)).status_code == 200
    assert list(
        AuditEvent.objects.filter(application=application, action__in=["suspended", "resumed"])
        .order_by("id")
        .values_list("action", "actor_label")
    ) == [("suspended", "API client “Admin script”"), ("resumed", "API client “Admin script”")]


@pytest.mark.parametrize("value", ["true", 1, 0, None, "yes", [True]])
def test_suspended_takes_only_a_json_boolean(client, caller, target, value):
    _, token = caller
    application, _ = target

    response = patch(client, token, application, {"suspended": value})

    assert response.status_code == 400 and "suspended" in response.json()
    application.refresh_from_db()
    assert application.suspended is False


def test_an_application_may_not_suspend_itself(client, caller):
    application, token = caller

    response = patch(client, token, application, {"suspended": True})

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "An application may not suspend itself: an admin, or another application, may."
    }
    application.refresh_from_db()
    assert application.suspended is False
    assert client.get("/api/credentials", **bearer(token)).status_code == 200
    # Resuming itself changes nothing (it could not be suspended and ask), and fencing itself in is its own call.
    assert patch(client, token, application, {"suspended": False}).status_code == 200
    assert patch(client, token, application, {"allowedNetworks": ["127.0.0.1"]}).status_code == 200


def test_a_fenced_in_token_is_refused_at_the_api_from_outside(client, caller, target, get_token):
    _, token = caller
    application, secret = target
    targets_token = get_token(application, secret)

    assert patch(client, token, application, {"allowedNetworks": ["198.51.100.0/24"]}).status_code == 200

    refused = client.get("/api/credentials", **bearer(targets_token))
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert client.get("/api/credentials", REMOTE_ADDR="198.51.100.9", **bearer(targets_token)).status_code == 200


def test_the_secrets_list_shows_the_address_of_the_last_use(client, caller, target):
    _, token = caller
    application, secret = target
    grant = client.post(
        "/oauth/token",
        "grant_type=client_credentials",
        content_type=FORM,
        HTTP_AUTHORIZATION=basic_auth(application.client_id, secret),
        REMOTE_ADDR="2001:db8::9",
    )
    assert grant.status_code == 200

    (item,) = client.get(url(application), **bearer(token)).json()["secrets"]

    assert item["lastUsedAddress"] == "2001:db8::9" and item["lastUsedAt"] is not None


def test_the_list_and_the_schema_know_the_new_fields(client, caller, schema):
    properties = schema["components"]["schemas"]["ApplicationDetail"]["properties"]
    assert {"allowedNetworks", "suspended"} <= set(properties)
    assert properties["allowedNetworks"]["maxItems"] == 50
    assert "lastUsedAddress" in schema["components"]["schemas"]["Secret"]["properties"]
    update = schema["components"]["schemas"]["PatchedApplicationUpdateRequest"]["properties"]
    assert {"allowedNetworks", "suspended"} <= set(update)
    assert Application.objects.filter(suspended=True).count() == 0
