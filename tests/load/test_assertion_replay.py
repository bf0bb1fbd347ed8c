"""A client assertion is accepted once across two servers (two workers each) on one database: a replay sent to
any worker of either server is refused, contract §10."""

import json

import pytest
import requests

from applications.tests.key_helpers import claims_for, private_key, public_pem, sign
from testing.databases import scratch_database
from testing.server import PortalServer, deployment_environment, manage

pytestmark = pytest.mark.load

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def two_servers(tmp_path):
    with scratch_database("replay", tmp_path) as database_url:
        env = deployment_environment(
            DATABASE_URL=database_url,
            SECRET_KEY="replay-test-" + "x" * 40,
            # Every replay is a counted failure from 127.0.0.1: the limits must not answer 429 first.
            TOKEN_FAILURE_LIMIT_PER_CLIENT_ADDRESS="1000,60",
            TOKEN_FAILURE_LIMIT_PER_ADDRESS="1000,60",
        )
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "createcachetable")
        manage(env, "createorgadmin", "--organization", "Replay", "--username", "r", "--password", "Replay-test-pass-1")
        app = json.loads(
            manage(
                env,
                "createapplication",
                "--organization",
                "Replay",
                "--name",
                "Signer",
                "--scopes",
                "read:credentials",
                "--json",
            )
        )
        private = private_key("ES256")
        (tmp_path / "public.pem").write_text(public_pem(private))
        manage(
            env,
            "addkey",
            "--organization",
            "Replay",
            "--application",
            "Signer",
            "--public-key",
            str(tmp_path / "public.pem"),
        )
        with (
            (tmp_path / "a.log").open("w+") as log_a,
            (tmp_path / "b.log").open("w+") as log_b,
            PortalServer(env=env, workers=2, log=log_a) as a,
            PortalServer(env=env, workers=2, log=log_b) as b,
        ):
            yield a.base, b.base, app["client_id"], private


def grant(base: str, assertion: str) -> int:
    body = {"grant_type": "client_credentials", "client_assertion_type": JWT_BEARER, "client_assertion": assertion}
    # A fresh connection each time: every worker of the server gets its turn.
    return requests.post(base + "/oauth/token", data=body, timeout=30).status_code


def test_an_assertion_accepted_by_one_server_is_refused_by_every_worker_of_both(two_servers):
    a, b, client_id, private = two_servers

    def assertion_for(base):
        return sign(private, claims_for(client_id, audience=base + "/oauth/token"))

    first = assertion_for(a)
    assert grant(a, first) == 200
    # The audience names server A's origin; replayed there and everywhere the same origin is served.
    assert {grant(a, first) for _ in range(6)} == {401}

    second = assertion_for(b)
    assert grant(b, second) == 200
    assert {grant(b, second) for _ in range(6)} == {401}
    # Accepted at one server, its replay fails at the other server too, for whichever origin it names.
    shared = sign(private, claims_for(client_id, audience=[a + "/oauth/token", b + "/oauth/token"]))
    assert grant(a, shared) == 200
    assert {grant(b, shared) for _ in range(6)} == {401}
