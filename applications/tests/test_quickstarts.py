"""The reveal page's quickstarts, run as a user runs them: beside a real downloaded `.env`, against a live server."""

import json
import os
import re
import shutil
import subprocess
import sys
from html import escape
from pathlib import Path

import pytest

from api.services import create_credential
from applications.downloads import api_variables, render_env
from applications.quickstarts import key_quickstarts, quickstarts
from applications.services import generate_key
from portal.actors import COMMAND_LINE

README = Path(__file__).resolve().parents[2] / "README.md"
VC = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "issuer": "did:example:issuer",
    "credentialSubject": {"id": "did:example:subject"},
}


@pytest.fixture
def workdir(live_server, organization, make_application, tmp_path):
    application, secret = make_application(name="Quickstart", scopes=["read:credentials"])
    create_credential(organization=organization, application=application, document=VC, visibility="private")
    # The address `make run` prints and serves on. "localhost" would do for Python and curl, but Node 18 tries
    # only its first address, ::1, where a server bound to 127.0.0.1 does not answer.
    origin = live_server.url.replace("//localhost:", "//127.0.0.1:")
    variables = api_variables(origin=origin, organization=organization, application=application, secret=secret)
    (tmp_path / ".env").write_text(render_env(variables))
    return tmp_path


def source(slug: str) -> str:
    return next(q["source"] for q in [*quickstarts(), *key_quickstarts()] if q["slug"] == slug)


def run(command, cwd, **env) -> dict:
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60, env={**os.environ, **env})
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads(completed.stdout)


def test_the_python_quickstart_lists_the_credentials(workdir):
    (workdir / "quickstart.py").write_text(source("python"))

    # The live server speaks plain HTTP, which requests-oauthlib refuses unless told.
    page = run([sys.executable, "quickstart.py"], workdir, OAUTHLIB_INSECURE_TRANSPORT="1")

    assert page["count"] == 1
    assert page["results"][0]["verifiableCredential"]["credentialSubject"]["id"] == "did:example:subject"


def _node() -> tuple[str, tuple[int, ...]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is missing: .ci/run installs nodejs.")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    return node, tuple(int(part) for part in version.strip().lstrip("v").split("."))


def test_the_node_quickstart_lists_the_credentials_with_the_env_file_loaded_by_the_shell(workdir):
    # The way its first lines give for any Node it supports (Debian's own is 18).
    node, _ = _node()
    (workdir / "quickstart.mjs").write_text(source("node"))

    page = run(["bash", "-c", f"set -a; . ./.env; set +a; {node} quickstart.mjs"], workdir)

    assert page["count"] == 1
    assert page["results"][0]["verifiableCredential"]["credentialSubject"]["id"] == "did:example:subject"


def test_the_node_quickstart_lists_the_credentials_with_node_reading_the_env_file(workdir):
    node, version = _node()
    (workdir / "quickstart.mjs").write_text(source("node"))

    completed = subprocess.run(
        [node, "--env-file=.env", "quickstart.mjs"], cwd=workdir, capture_output=True, text=True, timeout=60
    )

    if version >= (20, 6):
        assert completed.returncode == 0, completed.stderr
        page = json.loads(completed.stdout)
        assert page["count"] == 1
    else:
        # What the snippet's first line says: this way needs Node 20.6 or newer.
        assert "--env-file" in completed.stderr


def test_the_curl_quickstart_lists_the_credentials(workdir):
    (workdir / "quickstart.sh").write_text(source("curl"))

    page = run(["bash", "-c", "set -a; . ./.env; set +a; . ./quickstart.sh"], workdir)

    assert page["count"] == 1


@pytest.fixture
def key_workdir(live_server, organization, make_application, tmp_path):
    """Beside the application's `.env`, the private key of a generated key pair, as the reveal's download saves it."""
    application, secret = make_application(name="Key quickstart", scopes=["read:credentials"])
    origin = live_server.url.replace("//localhost:", "//127.0.0.1:")
    variables = api_variables(origin=origin, organization=organization, application=application, secret=secret)
    (tmp_path / ".env").write_text(render_env(variables))
    _, private_pem = generate_key(application=application, actor=COMMAND_LINE)
    (tmp_path / "key.pem").write_text(private_pem)
    return tmp_path


def assert_a_token_was_issued(answer: dict):
    assert answer["token_type"] == "Bearer"
    assert answer["scope"] == "read:credentials"
    assert answer["expires_in"] == 3600


def test_the_python_key_quickstart_gets_a_token(key_workdir):
    (key_workdir / "quickstart_key.py").write_text(source("key-python"))

    answer = run(
        ["bash", "-c", f"set -a; . ./.env; set +a; {sys.executable} quickstart_key.py"],
        key_workdir,
        PRIVATE_KEY_FILE="key.pem",
        AUTHLIB_INSECURE_TRANSPORT="1",
    )

    assert_a_token_was_issued(answer)


def test_the_node_key_quickstart_gets_a_token_with_node_alone(key_workdir):
    node, _ = _node()
    (key_workdir / "quickstart-key.mjs").write_text(source("key-node"))

    answer = run(
        ["bash", "-c", f"set -a; . ./.env; set +a; {node} quickstart-key.mjs"], key_workdir, PRIVATE_KEY_FILE="key.pem"
    )

    assert_a_token_was_issued(answer)


def test_the_node_key_quickstart_needs_no_package():
    # Node's own modules only: nothing to install, on Debian's Node 18 as on newer ones.
    modules = re.findall(r'from "([^"]+)"', source("key-node"))
    assert modules and all(module.startswith("node:") for module in modules)


def test_the_key_reveal_page_shows_both_key_quickstarts(admin_portal_client, make_application):
    from portal.tests.helpers import form_token_of

    application, _ = make_application()
    generate_url = f"/integrations/applications/{application.public_id}/keys/generate/"
    token = form_token_of(admin_portal_client.get(generate_url).content.decode())
    html = admin_portal_client.post(generate_url, {"expires_in_days": "never", "form_token": token}).content.decode()

    for quickstart in key_quickstarts():
        assert f'<code id="quickstart-{quickstart["slug"]}">{escape(quickstart["source"])}</code>' in html
        assert f'data-copy="quickstart-{quickstart["slug"]}"' in html


@pytest.mark.parametrize("slug", ["curl", "python", "node", "key-python", "key-node"])
def test_the_readme_shows_the_same_quickstarts(slug):
    assert source(slug).strip() in README.read_text()


def test_the_reveal_page_shows_every_quickstart_with_a_copy_button(admin_portal_client, new_application_data):
    html = admin_portal_client.post("/integrations/applications/new/", new_application_data()).content.decode()

    for quickstart in quickstarts():
        assert f'<code id="quickstart-{quickstart["slug"]}">{escape(quickstart["source"])}</code>' in html
        assert f'data-copy="quickstart-{quickstart["slug"]}"' in html
