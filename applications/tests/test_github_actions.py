"""The GitHub Actions job of the add page and the README, run as GitHub runs a step: its `run:` under
`bash --noprofile --norc -eo pipefail` with its `env:`, against a live server, the local issuer standing in for GitHub's
and a local ACTIONS_ID_TOKEN_REQUEST_URL handing out the job's token."""

import json
import os
import re
import subprocess
from html import unescape
from pathlib import Path

import pytest
import yaml

from api.services import create_credential
from applications.models import FederatedCredential
from applications.quickstarts import PLACEHOLDER_CLIENT_ID, PLACEHOLDER_ORIGIN, github_actions_job
from applications.services import add_federated_credential
from applications.tests.issuer_helpers import REPOSITORY, REQUEST_TOKEN, SUBJECT
from portal.actors import COMMAND_LINE
from portal.tests.helpers import signed_in

README = Path(__file__).resolve().parents[2] / "README.md"
VC = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "issuer": "did:example:issuer",
    "credentialSubject": {"id": "did:example:ci"},
}


@pytest.fixture
def deployment(live_server, organization, make_application, issuer):
    """An application trusting the local issuer's tokens for the job's subject and the live server's origin."""
    # The address `make run` serves on, as the page writes it into the job.
    origin = live_server.url.replace("//localhost:", "//127.0.0.1:")
    application, _ = make_application(name="CI", scopes=["read:credentials"])
    create_credential(organization=organization, application=application, document=VC, visibility="private")
    add_federated_credential(
        application=application, actor=COMMAND_LINE, name="main", issuer=issuer.url, subject=SUBJECT, audience=origin
    )
    return application, origin


def step_of(job_yaml: str) -> tuple[dict, dict]:
    """(the job, its one step) from the YAML a user copies."""
    [job] = yaml.safe_load(job_yaml)["jobs"].values()
    [step] = job["steps"]
    return job, step


def run_step(step: dict, issuer, tmp_path) -> subprocess.CompletedProcess:
    """The step as a runner runs `shell: bash`, with what GitHub gives a job that may ask for its OIDC token."""
    assert step["shell"] == "bash"
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    env = {
        **os.environ,
        **{name: str(value) for name, value in step["env"].items()},
        "ACTIONS_ID_TOKEN_REQUEST_URL": issuer.serve_job_tokens(),
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
    }
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_the_job_called_the_api(completed, issuer, origin):
    assert completed.returncode == 0, completed.stdout + completed.stderr
    answer = json.loads(completed.stdout.splitlines()[-1])
    assert answer["count"] == 1
    assert answer["results"][0]["verifiableCredential"]["credentialSubject"]["id"] == "did:example:ci"
    # It asked for its token with the portal's audience, the way GitHub's URL takes it.
    [asked] = [path for path in issuer.server.requests if path.startswith("/_apis/token")]
    assert asked.endswith(f"?api-version=2.0&audience={origin}")
    assert FederatedCredential.objects.get().last_used_at is not None


def test_the_add_pages_job_gets_a_token_and_calls_the_api(deployment, admin_user, issuer, tmp_path):
    application, origin = deployment
    page = signed_in(admin_user).get(
        f"/integrations/applications/{application.public_id}/federated-credentials/new/",
        HTTP_HOST=origin.removeprefix("http://"),
    )
    copied = unescape(re.search(r'<code id="github-actions-job">([^<]+)</code>', page.content.decode()).group(1))

    job, step = step_of(copied)

    assert job["permissions"]["id-token"] == "write"
    assert step["env"]["CLIENT_ID"] == application.client_id
    assert step["env"]["AUDIENCE"] == origin
    assert_the_job_called_the_api(run_step(step, issuer, tmp_path), issuer, origin)


def test_the_readmes_job_with_its_placeholders_filled_in_gets_a_token_and_calls_the_api(deployment, issuer, tmp_path):
    application, origin = deployment
    readme = README.read_text()
    [block] = [block for block in re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL) if "id-token: write" in block]

    filled = block.replace(PLACEHOLDER_CLIENT_ID, application.client_id).replace(PLACEHOLDER_ORIGIN, origin)
    _, step = step_of(filled)

    assert_the_job_called_the_api(run_step(step, issuer, tmp_path), issuer, origin)


def test_the_readme_and_the_page_show_the_same_job():
    assert github_actions_job() in README.read_text()


def test_the_job_fails_when_the_token_is_refused(deployment, issuer, tmp_path):
    _, origin = deployment
    _, step = step_of(github_actions_job(client_id="unknown-client", origin=origin))

    completed = run_step(step, issuer, tmp_path)

    # curl --fail-with-body: the step fails, showing the token endpoint's answer.
    assert completed.returncode != 0
    assert "invalid_client" in completed.stdout + completed.stderr


def test_the_job_token_stand_in_holds_githubs_claims(issuer):
    claims = issuer.claims("https://portal.example")

    assert {"repository", "ref", "sub", "jti", "aud", "iss", "exp", "iat", "nbf"} <= set(claims)
    assert claims["sub"] == f"repo:{claims['repository']}:ref:{claims['ref']}"
    assert claims["repository"] == REPOSITORY
