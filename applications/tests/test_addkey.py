"""`manage.py addkey`: a key exactly as the portal's "Add key" and "Generate key pair", safe to script."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from applications.models import AuditEvent, PublicKey
from applications.services import MAX_LIVE_KEYS, add_key
from applications.tests.key_helpers import claims_for, post_assertion, private_key, private_pem, public_pem, sign
from portal.actors import COMMAND_LINE


def run(*args) -> str:
    out = StringIO()
    call_command("addkey", "--organization", "acme-corp", "--application", "Nightly sync", *args, stdout=out)
    return out.getvalue()


def test_a_public_key_file_is_added_and_authenticates(client, make_application, tmp_path):
    application, _ = make_application()
    private = private_key("RS256")
    (tmp_path / "key.pem").write_text(public_pem(private))

    result = json.loads(run("--public-key", str(tmp_path / "key.pem"), "--expires-in-days", "90", "--json"))

    key = PublicKey.objects.get(public_id=result["key_id"])
    assert (result["kid"], result["alg"], result["client_id"]) == (key.kid, "RS256", application.client_id)
    assert key.expires_at is not None
    assert "private_key" not in result
    assert AuditEvent.objects.filter(action=AuditEvent.Action.KEY_ADDED, actor_label="command line").exists()
    assert post_assertion(client, sign(private, claims_for(application.client_id))).status_code == 200


def test_generate_prints_the_private_key_once_and_keeps_only_the_public_key(client, make_application):
    application, _ = make_application()

    result = json.loads(run("--generate", "--json"))

    key = PublicKey.objects.get()
    assert result["private_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert result["private_key"] not in key.public_key and "PRIVATE" not in key.public_key
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    private = load_pem_private_key(result["private_key"].encode(), None)
    assert post_assertion(client, sign(private, claims_for(application.client_id), kid=key.kid)).status_code == 200


def test_a_private_key_file_is_refused_and_nothing_is_kept(make_application, tmp_path):
    make_application()
    (tmp_path / "private.pem").write_text(private_pem(private_key()))

    with pytest.raises(CommandError, match="public_key: This is a private key"):
        run("--public-key", str(tmp_path / "private.pem"))
    assert not PublicKey.objects.exists()


def test_at_five_live_keys_it_fails_and_changes_nothing(make_application, tmp_path):
    application, _ = make_application()
    for _ in range(MAX_LIVE_KEYS):
        add_key(application=application, actor=COMMAND_LINE, public_key=public_pem(private_key()))
    (tmp_path / "key.pem").write_text(public_pem(private_key()))

    with pytest.raises(CommandError, match="already has 5 live keys"):
        run("--public-key", str(tmp_path / "key.pem"))
    with pytest.raises(CommandError, match="already has 5 live keys"):
        run("--generate")
    assert PublicKey.objects.count() == MAX_LIVE_KEYS


def test_the_same_key_twice_is_refused(make_application, tmp_path):
    make_application()
    (tmp_path / "key.pem").write_text(public_pem(private_key()))
    run("--public-key", str(tmp_path / "key.pem"))

    with pytest.raises(CommandError, match="already one of the application's live keys"):
        run("--public-key", str(tmp_path / "key.pem"))


def test_one_source_is_required(make_application):
    make_application()
    with pytest.raises(CommandError):
        run()
