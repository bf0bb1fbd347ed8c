"""Client secret lifecycle (contract §6) through the services and the real token endpoint."""

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret as old_format_secret
from oauth2_provider.models import AccessToken

from api.tests.helpers import access_token_row, bearer
from applications import services
from applications.identifiers import is_well_formed
from applications.models import Application, AuditEvent, ClientSecret, IssuedToken
from applications.oauth.hashers import ClientSecretHasher
from applications.services import (
    LastLiveCredential,
    SecretLimitReached,
    revoke_secret,
    rotate_secret,
    update_application,
)
from applications.tests.oauth_helpers import request_token
from portal.actors import COMMAND_LINE, Actor


def rotate(application, **kwargs):
    kwargs.setdefault("actor", COMMAND_LINE)
    return rotate_secret(application=application, **kwargs)


def assert_invalid_client(response):
    assert response.status_code == 401, response.content
    assert response.json()["error"] == "invalid_client"


def api_status(client, token):
    return client.get("/api/credentials", **bearer(token)).status_code


def live(application):
    now = timezone.now()
    return [secret for secret in application.secrets.all() if secret.is_live(now)]


# --- Creation ---------------------------------------------------------------------------


def test_a_new_application_has_one_identifiable_secret_row(make_application):
    application, secret = make_application()
    row = application.secrets.get()
    assert is_well_formed(secret, "ipcs_")
    assert row.hint == secret[-4:]
    assert (row.expires_at, row.last_used_at, row.revoked_at) == (None, None, None)
    assert secret not in row.secret_hash and ClientSecretHasher().verify(secret, row.secret_hash)


def test_a_secret_may_expire_from_creation(make_application):
    application, _ = make_application(expires_in_days=30)
    row = application.secrets.get()
    assert abs(row.expires_at - (row.created_at + timedelta(days=30))) < timedelta(seconds=1)


@pytest.mark.parametrize("value", [0, 731, -1, "30", True, 1.5])
def test_creation_refuses_expiry_outside_1_to_730_days(make_application, value):
    with pytest.raises(ValidationError) as refused:
        make_application(expires_in_days=value)
    assert "expires_in_days" in refused.value.message_dict
    assert not Application.objects.exists() and not ClientSecret.objects.exists()


def test_tokens_are_identifiable_and_remember_their_secret(make_application, get_token):
    application, secret = make_application()
    token = get_token(application, secret)
    assert is_well_formed(token, "ipat_")
    assert IssuedToken.objects.get(access_token=access_token_row(token)).secret == application.secrets.get()


# --- Authentication ---------------------------------------------------------------------


def test_each_live_secret_authenticates_and_records_its_own_use(client, make_application, get_token):
    application, first = make_application()
    row, second = rotate(application)
    get_token(application, second)
    old_row = application.secrets.exclude(pk=row.pk).get()
    row.refresh_from_db()
    old_row.refresh_from_db()
    assert row.last_used_at is not None and old_row.last_used_at is None

    token = get_token(application, first)
    old_row.refresh_from_db()
    assert old_row.last_used_at is not None
    assert IssuedToken.objects.get(access_token=access_token_row(token)).secret == old_row


def test_last_used_is_written_at_most_once_a_minute(make_application, get_token):
    application, secret = make_application()
    get_token(application, secret)
    row = application.secrets.get()
    earlier = row.last_used_at - timedelta(seconds=30)
    ClientSecret.objects.filter(pk=row.pk).update(last_used_at=earlier)
    get_token(application, secret)
    row.refresh_from_db()
    assert row.last_used_at == earlier
    ClientSecret.objects.filter(pk=row.pk).update(last_used_at=earlier - timedelta(seconds=31))
    get_token(application, secret)
    row.refresh_from_db()
    assert row.last_used_at > earlier


def test_an_expired_secret_is_invalid_client(client, make_application):
    application, secret = make_application()
    ClientSecret.objects.filter(application=application).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_invalid_client(request_token(client, application, secret))


def test_a_revoked_secret_is_invalid_client(client, make_application):
    application, secret = make_application()
    row = application.secrets.get()
    rotate(application)
    revoke_secret(secret=row, actor=COMMAND_LINE)
    assert_invalid_client(request_token(client, application, secret))


def test_a_wrong_checksum_is_refused_without_hashing(client, make_application, monkeypatch):
    application, secret = make_application()
    forged = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    hashed = []
    verify = ClientSecretHasher.verify
    monkeypatch.setattr(ClientSecretHasher, "verify", lambda self, *args: hashed.append(args) or verify(self, *args))

    assert_invalid_client(request_token(client, application, forged))
    assert hashed == []
    # The same shape with the right checksum is hashed (and here matches).
    assert request_token(client, application, secret).status_code == 200
    assert len(hashed) == 1


def test_a_wrong_checksum_counts_toward_the_brute_force_limit(client, make_application, settings):
    settings.FAILURE_LIMITS = {**settings.FAILURE_LIMITS, "TOKEN_PER_CLIENT_ADDRESS": (2, 60)}
    application, secret = make_application()
    forged = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert_invalid_client(request_token(client, application, forged))
    assert_invalid_client(request_token(client, application, forged))
    locked = request_token(client, application, secret)
    assert locked.status_code == 429 and locked.json()["error"] == "too_many_attempts"


def test_secrets_of_the_old_format_keep_working(client, make_application):
    application, _ = make_application()
    legacy = old_format_secret()
    ClientSecret.objects.filter(application=application).update(
        secret_hash=make_password(legacy, hasher="sha256_salted"), hint=""
    )
    response = request_token(client, application, legacy)
    assert response.status_code == 200
    assert is_well_formed(response.json()["access_token"], "ipat_")


def test_the_toolkits_own_column_authenticates_nothing(client, make_application):
    application, secret = make_application()
    # Even written in clear, the column is never read for client authentication.
    Application.objects.filter(pk=application.pk).update(client_secret="known", hash_client_secret=False)
    assert_invalid_client(request_token(client, application, "known"))
    assert request_token(client, application, secret).status_code == 200


def test_a_broken_basic_header_never_falls_back_to_the_body(client, make_application):
    application, secret = make_application()
    response = client.post(
        "/oauth/token",
        f"grant_type=client_credentials&client_id={application.client_id}&client_secret={secret}",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION="Basic !!!not-base64!!!",
    )
    assert_invalid_client(response)


# --- Rotation ---------------------------------------------------------------------------


def test_rotation_keeps_the_current_secret_for_a_day_by_default(client, make_application):
    application, old = make_application()
    before = timezone.now()
    row, new = rotate(application)
    old_row = application.secrets.exclude(pk=row.pk).get()
    assert before + timedelta(days=1) <= old_row.expires_at <= timezone.now() + timedelta(days=1)
    assert row.expires_at is None and row.hint == new[-4:] and new != old
    assert request_token(client, application, old).status_code == 200
    assert request_token(client, application, new).status_code == 200


def test_keep_current_for_zero_stops_the_old_secret_at_once_but_not_its_tokens(client, make_application, get_token):
    application, old = make_application()
    token = get_token(application, old)
    _, new = rotate(application, keep_current_for=0)
    assert_invalid_client(request_token(client, application, old))
    assert request_token(client, application, new).status_code == 200
    assert api_status(client, token) == 200


def test_keep_current_for_none_keeps_the_old_secret_until_revoked(make_application):
    application, _ = make_application()
    row, _ = rotate(application, keep_current_for=None)
    assert application.secrets.exclude(pk=row.pk).get().expires_at is None
    assert len(live(application)) == 2


def test_rotation_never_extends_a_secrets_life(make_application):
    application, _ = make_application()
    soon = timezone.now() + timedelta(hours=1)
    ClientSecret.objects.filter(application=application).update(expires_at=soon)
    row, _ = rotate(application, keep_current_for=604800)
    assert application.secrets.exclude(pk=row.pk).get().expires_at == soon


def test_the_new_secret_may_expire(make_application):
    application, _ = make_application()
    row, _ = rotate(application, expires_in_days=90)
    assert abs(row.expires_at - (row.created_at + timedelta(days=90))) < timedelta(seconds=1)


def test_a_third_secret_is_refused_and_nothing_changes(make_application):
    application, _ = make_application()
    rotate(application)
    before = list(ClientSecret.objects.order_by("pk").values())
    events = AuditEvent.objects.count()
    with pytest.raises(SecretLimitReached, match="revoke one of them first"):
        rotate(application, keep_current_for=0)
    assert list(ClientSecret.objects.order_by("pk").values()) == before
    assert AuditEvent.objects.count() == events


def test_an_expired_secret_leaves_room_for_a_new_one(make_application):
    application, _ = make_application()
    rotate(application, keep_current_for=0)
    rotate(application)
    assert len(live(application)) == 2 and application.secrets.count() == 3


@pytest.mark.parametrize(
    "field, value",
    [
        *[("keep_current_for", value) for value in (-1, 604801, "3600")],
        *[("expires_in_days", value) for value in (0, 731)],
    ],
)
def test_rotation_refuses_values_outside_the_contracts_ranges(make_application, field, value):
    application, _ = make_application()
    with pytest.raises(ValidationError) as refused:
        rotate(application, **{field: value})
    assert field in refused.value.message_dict
    assert application.secrets.count() == 1 and application.secrets.get().expires_at is None


def test_a_member_may_not_rotate_or_revoke(make_application, member_membership):
    application, _ = make_application()
    first = application.secrets.get()
    rotate(application, keep_current_for=None)
    member = Actor.for_member(member_membership)
    with pytest.raises(PermissionDenied):
        rotate(application, actor=member)
    with pytest.raises(PermissionDenied):
        revoke_secret(secret=first, actor=member)
    assert len(live(application)) == 2


def test_another_organizations_client_may_not_rotate(make_application, other_application):
    application, _ = make_application()
    outsider = Actor(label="API client", application=other_application[0])
    with pytest.raises(PermissionDenied):
        rotate(application, actor=outsider)
    assert application.secrets.count() == 1


def test_rotating_an_application_deleted_since_it_was_read_adds_no_secret(make_application):
    # The deletion has committed before the rotation begins; the two at once: test_secret_races.py.
    application, _ = make_application()
    stale = Application.objects.get(pk=application.pk)
    services.delete_application(application=application, actor=COMMAND_LINE)
    with pytest.raises(Application.DoesNotExist):
        rotate(stale)
    assert not ClientSecret.objects.exists()


# --- Revocation -------------------------------------------------------------------------


def test_revoking_with_tokens_ends_exactly_that_secrets_tokens(client, make_application, get_token):
    application, old = make_application()
    old_row = application.secrets.get()
    old_token = get_token(application, old)
    _, new = rotate(application)
    new_token = get_token(application, new)

    assert revoke_secret(secret=old_row, actor=COMMAND_LINE) == 1
    assert api_status(client, old_token) == 401
    assert api_status(client, new_token) == 200
    assert_invalid_client(request_token(client, application, old))
    assert AccessToken.objects.count() == 1


def test_revoking_without_tokens_lets_them_live_out_their_lifetime(client, make_application, get_token):
    application, old = make_application()
    old_row = application.secrets.get()
    token = get_token(application, old)
    rotate(application)
    assert revoke_secret(secret=old_row, actor=COMMAND_LINE, revoke_tokens=False) == 0
    assert api_status(client, token) == 200
    assert_invalid_client(request_token(client, application, old))


def test_the_only_live_secret_cannot_be_revoked_without_another_live_credential(client, make_application, get_token):
    application, secret = make_application()
    token = get_token(application, secret)
    with pytest.raises(LastLiveCredential, match="generate a new secret or add a key first, or delete the application"):
        revoke_secret(secret=application.secrets.get(), actor=COMMAND_LINE)
    assert application.secrets.get().revoked_at is None
    assert api_status(client, token) == 200


def test_the_only_live_secret_beside_an_expired_one_cannot_be_revoked(make_application):
    application, _ = make_application()
    new, _ = rotate(application, keep_current_for=0)
    with pytest.raises(LastLiveCredential):
        revoke_secret(secret=new, actor=COMMAND_LINE)


def test_an_expired_secret_can_be_revoked_to_end_its_tokens(client, make_application, get_token):
    application, old = make_application()
    old_row = application.secrets.get()
    token = get_token(application, old)
    new, _ = rotate(application, keep_current_for=0)
    assert api_status(client, token) == 200

    assert revoke_secret(secret=old_row, actor=COMMAND_LINE) == 1
    assert api_status(client, token) == 401
    old_row.refresh_from_db()
    assert old_row.revoked_at is not None
    assert live(application) == [new]


def test_a_revoked_secret_cannot_be_revoked_again(make_application):
    application, _ = make_application()
    first = application.secrets.get()
    rotate(application)
    revoke_secret(secret=first, actor=COMMAND_LINE)
    before = ClientSecret.objects.get(pk=first.pk).revoked_at
    with pytest.raises(ClientSecret.DoesNotExist):
        revoke_secret(secret=first, actor=COMMAND_LINE)
    assert ClientSecret.objects.get(pk=first.pk).revoked_at == before


def test_generation_and_revocation_are_in_the_history(make_application):
    application, _ = make_application()
    first = application.secrets.get()
    row, _ = rotate(application, keep_current_for=3600, expires_in_days=30)
    revoke_secret(secret=first, actor=COMMAND_LINE, revoke_tokens=False)
    revoked, generated = AuditEvent.objects.filter(application=application)[:2]
    assert generated.action == AuditEvent.Action.SECRET_GENERATED
    assert generated.changes == {
        "secret": row.hint,
        "expires_at": row.expires_at.isoformat(),
        "keep_current_for": 3600,
    }
    assert revoked.action == AuditEvent.Action.SECRET_REVOKED
    assert revoked.changes == {"secret": first.hint, "tokens_revoked": None}
    assert generated.actor_label == revoked.actor_label == "command line"


# --- Token lifetime -----------------------------------------------------------------------


def test_a_token_lives_as_long_as_its_application_says_when_issued(client, make_application, get_token):
    application, secret = make_application(token_lifetime=300)
    first = request_token(client, application, secret).json()
    assert first["expires_in"] == 300
    update_application(application=application, actor=COMMAND_LINE, token_lifetime=86400)
    second = request_token(client, application, secret).json()
    assert second["expires_in"] == 86400
    # The first token keeps the lifetime it was issued with.
    lifetime = access_token_row(first["access_token"]).expires - timezone.now()
    assert timedelta(seconds=290) < lifetime <= timedelta(seconds=300)


def test_the_default_lifetime_is_access_token_ttl(client, make_application):
    application, secret = make_application()
    assert application.token_lifetime is None
    assert request_token(client, application, secret).json()["expires_in"] == 3600


@pytest.mark.parametrize("value", [0, 60, 3601, 86401, "3600", True])
def test_other_lifetimes_are_refused(make_application, value):
    application, _ = make_application()
    with pytest.raises(ValidationError) as refused:
        update_application(application=application, actor=COMMAND_LINE, token_lifetime=value)
    assert "token_lifetime" in refused.value.message_dict
    application.refresh_from_db()
    assert application.token_lifetime is None


def test_a_secret_revoked_while_its_grant_runs_issues_no_token(client, make_application, monkeypatch):
    from applications.oauth.validator import ApplicationValidator

    application, old = make_application()
    old_row = application.secrets.get()
    rotate(application)
    authenticate = ApplicationValidator.authenticate_client

    def revoked_right_after_authentication(self, request, *args, **kwargs):
        authenticated = authenticate(self, request, *args, **kwargs)
        revoke_secret(secret=ClientSecret.objects.get(pk=old_row.pk), actor=COMMAND_LINE)
        return authenticated

    monkeypatch.setattr(ApplicationValidator, "authenticate_client", revoked_right_after_authentication)
    assert_invalid_client(request_token(client, application, old))
    assert not AccessToken.objects.exists() and not IssuedToken.objects.exists()


# --- Revocation and introspection endpoints ------------------------------------------------


@pytest.mark.parametrize("url", ["/oauth/introspect", "/oauth/revoke"])
def test_every_live_secret_authenticates_at_revocation_and_introspection(client, make_application, get_token, url):
    from applications.tests.test_revocation_introspection import post

    application, old = make_application()
    old_row = application.secrets.get()
    row, new = rotate(application)
    for secret in (new, old):
        token = get_token(application, new)
        assert post(client, url, application, secret, token=token).status_code == 200
    old_row.refresh_from_db()
    row.refresh_from_db()
    assert old_row.last_used_at is not None and row.last_used_at is not None


@pytest.mark.parametrize("url", ["/oauth/introspect", "/oauth/revoke"])
@pytest.mark.parametrize("how", ["expired", "revoked", "wrong checksum"])
def test_a_dead_or_mistyped_secret_is_invalid_client_at_revocation_and_introspection(
    client, make_application, get_token, url, how
):
    from applications.tests.test_revocation_introspection import post

    application, old = make_application()
    old_row = application.secrets.get()
    _, new = rotate(application, keep_current_for=None)
    token = get_token(application, new)
    if how == "expired":
        ClientSecret.objects.filter(pk=old_row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif how == "revoked":
        revoke_secret(secret=old_row, actor=COMMAND_LINE, revoke_tokens=False)
    else:
        old = old[:-1] + ("A" if old[-1] != "A" else "B")
    assert_invalid_client(post(client, url, application, old, token=token))
    assert api_status(client, token) == 200
