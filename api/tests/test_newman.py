"""The portal's own Postman collection, run by newman against a live server with a downloaded environment."""

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import requests

from api.models import Credential
from applications.downloads import api_variables, render_postman_environment
from applications.models import Application
from applications.scopes import SCOPES

NEWMAN = Path(__file__).parent / "newman" / "node_modules" / ".bin" / "newman"


@pytest.fixture
def files(live_server, organization, make_application, tmp_path):
    if not NEWMAN.exists():
        pytest.fail("newman is missing: `make test` installs it (npm ci in api/tests/newman).")
    application, secret = make_application(name="Postman", scopes=list(SCOPES))
    variables = api_variables(origin=live_server.url, organization=organization, application=application, secret=secret)
    environment = tmp_path / "app.postman_environment.json"
    environment.write_text(render_postman_environment(variables, name="Postman"))
    collection = tmp_path / "collection.json"
    response = requests.get(f"{live_server.url}/api/postman-collection.json", timeout=10)
    response.raise_for_status()
    collection.write_bytes(response.content)
    return application, collection, environment


def newman(collection, environment, report, *extra):
    completed = subprocess.run(
        [
            str(NEWMAN),
            "run",
            str(collection),
            "-e",
            str(environment),
            *extra,
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report),
            "--timeout",
            "60000",
            "--timeout-request",
            "10000",
            "--color",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    run = json.loads(report.read_text())["run"]
    assert run["failures"] == [], completed.stdout
    assert run["stats"]["assertions"]["failed"] == 0, completed.stdout
    return run, completed.stdout


def executed(run) -> Counter:
    # newman files a pre-request script's pm.sendRequest under the item that ran it.
    return Counter(execution["item"]["name"] for execution in run["executions"] if "response" in execution)


def test_the_collection_runs_end_to_end_with_a_downloaded_environment(files, make_application, tmp_path):
    application, collection, environment = files

    run, output = newman(collection, environment, tmp_path / "first.json")
    requests_sent = executed(run)
    # Every operation but the rotation, the revocation and the delete, which run only for an application
    # (and a secret) named to them, and the introspection of the collection's own token.
    assert len(requests_sent) == 10, output
    assert not {"Delete an application", "Rotate secret", "Revoke secret"} & set(requests_sent)
    assert requests_sent["Introspect my token"] == 1
    assert application.secrets.count() == 1
    # One token request, by the first item, reused by all the others.
    assert requests_sent.pop("Read the organization") == 2
    assert set(requests_sent.values()) == {1}
    assert Application.objects.filter(pk=application.pk).exists()
    assert not Credential.objects.exists()

    spare, _ = make_application(name="Spare", scopes=["read:credentials"])
    run, output = newman(
        collection,
        environment,
        tmp_path / "second.json",
        "--env-var",
        f"APPLICATION_TO_DELETE={spare.public_id}",
        "--env-var",
        f"APPLICATION_TO_ROTATE={application.public_id}",
    )
    assert len(executed(run)) == 12, output
    assert not Application.objects.filter(pk=spare.pk).exists()
    assert Application.objects.filter(pk=application.pk).exists()
    # The application rotated its own secret: the new one and the current one (for a day) are live.
    assert [secret.expires_at is not None for secret in application.secrets.all()] == [True, False]
