"""Contract §11's allowed networks: enforced before any credential is checked at the three OAuth endpoints, and on
every API request with a token already issued; and the last-used address of a secret."""

from urllib.parse import urlencode

import pytest
from django.core.exceptions import ValidationError

from api.tests.helpers import bearer
from applications.models import AuditEvent
from applications.services import MAX_ALLOWED_NETWORKS, clean_allowed_networks, update_application
from applications.tests.oauth_helpers import FORM, basic_auth
from portal.actors import COMMAND_LINE
from portal.addresses import parse_network

ENDPOINTS = ["/oauth/token", "/oauth/revoke", "/oauth/introspect"]
INSIDE, OUTSIDE = "198.51.100.7", "203.0.113.9"


def restrict(application, *networks):
    return update_application(application=application, actor=COMMAND_LINE, allowed_networks=list(networks))


def call(client, path, application, secret, address, *, in_body=False, **headers):
    """The endpoint at `path`, with the application's credentials (Basic, or in the body), from `address`."""
    fields = {"grant_type": "client_credentials", "token": "ipat_unknown"}
    if in_body:
        fields.update(client_id=application.client_id, client_secret=secret)
    else:
        headers["HTTP_AUTHORIZATION"] = basic_auth(application.client_id, secret)
    return client.post(path, urlencode(fields), content_type=FORM, REMOTE_ADDR=address, **headers)


def assert_invalid_client(response):
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize("in_body", [False, True], ids=["basic", "body"])
@pytest.mark.parametrize("path", ENDPOINTS)
def test_from_outside_the_allowed_networks_every_endpoint_is_invalid_client(client, make_application, path, in_body):
    application, secret = make_application()
    restrict(application, "198.51.100.0/24", "2001:db8::/32")

    assert_invalid_client(call(client, path, application, secret, OUTSIDE, in_body=in_body))
    assert call(client, path, application, secret, INSIDE, in_body=in_body).status_code == 200
    assert call(client, path, application, secret, "2001:db8::1", in_body=in_body).status_code == 200


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_refusal_from_outside_counts_toward_the_brute_force_limits(client, make_application, settings, path):
    settings.FAILURE_LIMITS = {**settings.FAILURE_LIMITS, "TOKEN_PER_CLIENT_ADDRESS": (3, 60)}
    application, secret = make_application()
    restrict(application, "198.51.100.0/24")

    for _ in range(3):
        assert_invalid_client(call(client, path, application, secret, OUTSIDE))

    locked = call(client, path, application, secret, OUTSIDE)
    assert locked.status_code == 429 and locked.json()["error"] == "too_many_attempts"
    assert AuditEvent.objects.filter(application=application, action="locked_out", address=OUTSIDE).exists()
    assert call(client, path, application, secret, INSIDE).status_code == 200


def test_a_token_already_issued_is_refused_from_outside_after_the_change(client, make_application, get_token):
    application, secret = make_application()
    token = get_token(application, secret)
    assert client.get("/api/credentials", REMOTE_ADDR=OUTSIDE, **bearer(token)).status_code == 200

    restrict(application, "198.51.100.0/24")

    refused = client.get("/api/credentials", REMOTE_ADDR=OUTSIDE, **bearer(token))
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert refused["Content-Type"] == "application/json"
    assert client.get("/api/credentials", REMOTE_ADDR=INSIDE, **bearer(token)).status_code == 200

    restrict(application)  # empty again: any address
    assert client.get("/api/credentials", REMOTE_ADDR=OUTSIDE, **bearer(token)).status_code == 200


@pytest.mark.parametrize(
    ("network", "address", "status"),
    [
        ("198.51.100.0/24", "198.51.100.0", 200),
        ("198.51.100.0/24", "198.51.100.255", 200),
        ("198.51.100.0/24", "198.51.101.0", 401),
        ("198.51.100.7/32", "198.51.100.7", 200),
        ("198.51.100.7", "198.51.100.6", 401),
        ("2001:db8::7/128", "2001:db8::7", 200),
        ("2001:db8::7", "2001:db8::8", 401),
        ("2001:db8:42::/48", "2001:db8:42:ffff:ffff:ffff:ffff:ffff", 200),
        ("2001:db8:42::/48", "2001:db8:43::", 401),
        # An IPv4 client through a dual-stack socket is that IPv4 client.
        ("198.51.100.0/24", "::ffff:198.51.100.7", 200),
        ("198.51.100.0/24", "::ffff:203.0.113.9", 401),
        ("::ffff:198.51.100.0/120", "198.51.100.7", 200),
        ("::/0", "198.51.100.7", 401),
        ("0.0.0.0/0", "2001:db8::7", 401),
    ],
)
def test_the_edges_of_a_range_at_the_token_endpoint(client, make_application, network, address, status):
    application, secret = make_application()
    restrict(application, network)

    assert call(client, "/oauth/token", application, secret, address).status_code == status


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_one_checked(client, make_application, settings):
    settings.TRUSTED_PROXIES = (parse_network("10.0.0.0/8"),)
    application, secret = make_application()
    restrict(application, "198.51.100.0/24")

    def grant(peer, forwarded):
        return call(client, "/oauth/token", application, secret, peer, HTTP_X_FORWARDED_FOR=forwarded)

    assert grant("10.0.0.1", f"{INSIDE}, 10.0.0.2").status_code == 200
    assert_invalid_client(grant("10.0.0.1", f"{INSIDE}, {OUTSIDE}, 10.0.0.2"))
    # A forged header from a peer that is no trusted proxy is ignored: the peer is outside.
    assert_invalid_client(grant(OUTSIDE, INSIDE))


def test_an_allowed_network_list_is_stored_spelled_one_way_and_recorded_in_activity(make_application):
    application, _ = make_application()

    restrict(application, " 198.51.100.0/24 ", "2001:DB8::/32", "198.51.100.0/24", "203.0.113.9/32", "")

    application.refresh_from_db()
    assert application.allowed_networks == ["198.51.100.0/24", "2001:db8::/32", "203.0.113.9"]
    event = AuditEvent.objects.get(application=application, action="updated")
    assert event.changes == {"allowed_networks": [[], ["198.51.100.0/24", "2001:db8::/32", "203.0.113.9"]]}

    restrict(application, "198.51.100.0/24", "2001:db8:0::/32", "203.0.113.9/32")  # the same: nothing recorded
    assert AuditEvent.objects.filter(application=application, action="updated").count() == 1


def test_fifty_networks_are_allowed_and_fifty_one_refused(make_application):
    application, _ = make_application()
    networks = [f"198.51.{n}.0/24" for n in range(MAX_ALLOWED_NETWORKS + 1)]

    assert len(clean_allowed_networks(networks[:MAX_ALLOWED_NETWORKS])) == 50
    with pytest.raises(ValidationError) as refused:
        restrict(application, *networks)

    assert refused.value.message_dict == {"allowed_networks": ["Give at most 50 networks (51 were given)."]}
    application.refresh_from_db()
    assert application.allowed_networks == []


def test_each_bad_entry_is_named_and_nothing_changes(make_application):
    application, _ = make_application()
    restrict(application, "198.51.100.0/24")

    with pytest.raises(ValidationError) as refused:
        restrict(application, "203.0.113.0/24", "intranet", "203.0.113.9/24")

    assert refused.value.message_dict == {
        "allowed_networks": [
            "“intranet” is not an IP address or CIDR range.",
            "“203.0.113.9/24” has bits set after its prefix length: write 203.0.113.0/24 for the range.",
        ]
    }
    application.refresh_from_db()
    assert application.allowed_networks == ["198.51.100.0/24"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_each_use_of_a_secret_records_its_client_address_with_its_time(client, make_application, path, frozen_time):
    application, secret = make_application()
    row = application.secrets.get()

    assert call(client, path, application, secret, "2001:db8::5").status_code == 200
    row.refresh_from_db()
    first_use = row.last_used_at
    assert (row.last_used_address, first_use is not None) == ("2001:db8::5", True)

    # Within the minute nothing is written, the address included; after it, both are.
    call(client, path, application, secret, INSIDE)
    row.refresh_from_db()
    assert (row.last_used_address, row.last_used_at) == ("2001:db8::5", first_use)
    frozen_time[0] += 60
    call(client, path, application, secret, INSIDE)
    row.refresh_from_db()
    assert row.last_used_address == INSIDE and row.last_used_at > first_use
