"""An invitation link's token is stored nowhere and written in no log line: only its hash is kept (contract §9)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.test import Client

from portal.actors import Actor
from portal.models import Invitation
from portal.services import create_invitation
from portal.tests.factories import PASSWORD
from portal.tests.helpers import form_token_of, invitation_link_of
from portal.tests.storage import everything_stored
from testing.server import PortalServer

ROOT = Path(settings.BASE_DIR)


@pytest.mark.django_db(transaction=True)
def test_a_whole_invitation_flow_leaves_the_token_in_no_table_log_line_or_cache(admin_user, written_log, caplog):
    admin = Client()
    assert admin.post("/accounts/login/", {"username": admin_user.username, "password": PASSWORD}).status_code == 302
    invite_page = admin.get("/organization/members/invite/").content.decode()
    form_token = form_token_of(invite_page)
    created = admin.post(
        "/organization/members/invite/", {"email": "new@example.com", "role": "member", "form_token": form_token}
    )
    link = invitation_link_of(created.content.decode())
    token = link.rsplit("/", 2)[1]
    path = f"/invitations/{token}/"

    guest = Client()
    assert guest.get(path).status_code == 200
    assert guest.post(path, {"username": "newcomer", "password1": "short", "password2": "short"}).status_code == 200
    # A form without its CSRF token: Django logs the refusal with the path.
    assert Client(enforce_csrf_checks=True).post(path, {"username": "x"}).status_code == 403
    strong = "Violet-harbour-42"
    assert guest.post(path, {"username": "newcomer", "password1": strong, "password2": strong}).status_code == 302
    assert guest.get(path).status_code == 404
    assert guest.get(path + "more/").status_code == 404
    assert Invitation.objects.get().accepted_at is not None

    stored = everything_stored()
    assert token not in stored
    assert Invitation.hash_token(token) in stored
    written = written_log.getvalue()
    assert "Not Found: /invitations/…/" in written
    assert "Forbidden (CSRF cookie not set.): /invitations/…/" in written
    assert token not in written
    # Every record, as any handler would format it, after the filter has seen it.
    assert token not in caplog.text


def test_the_servers_request_log_writes_invitation_paths_without_the_token(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", SECRET_KEY="x" * 50, DEBUG="false")
    for command in (["migrate", "--noinput", "-v", "0"], ["createcachetable"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True)
    token = "Tok3n-" + "z" * 40
    log_path = tmp_path / "server.log"
    # The command `make run` serves with, writing its access log and error log to one file.
    with log_path.open("w") as log, PortalServer(env=env, workers=1, log=log) as server:
        response = requests.get(
            f"{server.base}/invitations/{token}/?x={token}",
            headers={"Referer": f"{server.base}/invitations/{token}/"},
            timeout=10,
        )
        assert response.status_code == 404
        assert requests.get(f"{server.base}/invitations//{token}/", timeout=10).status_code == 404
    written = log_path.read_text()
    assert written.count("GET /invitations/…/ 404") == 2
    assert token not in written


SPELLINGS = [
    "/invitations/{token}/",
    "/invitations//{token}/",
    "/invitations///{token}/",
    "/invitations/%2F{token}/",
    "/invitations%2F{token}/",
    "/invitations//{token}",
    "/invitations//{token}/more/",
    "/invitations/{token}%2F",
    "/./invitations//{token}/?next=/x",
    "/INVITATIONS/{token}/",
    "/Invitations//{token}/",
    "/invitations/%20{token}/",
]


def test_no_spelling_of_an_invitation_link_writes_its_token_to_the_log(
    organization, admin_membership, written_log, log_format, caplog
):
    actor = Actor.for_member(admin_membership)
    _, token = create_invitation(organization=organization, email="new@example.com", role="member", actor=actor)
    client = Client()

    statuses = [client.get(spelling.format(token=token)).status_code for spelling in SPELLINGS]

    assert all(status < 500 for status in statuses), statuses
    written = written_log.getvalue()
    assert written.count("/invitations/…") >= len(SPELLINGS)
    assert token not in written
    assert token not in caplog.text
