"""The hand-written reads of the token endpoint and the bearer check load what the ORM would."""

import datetime as dt

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken

from applications.models import Application, ClientSecret
from applications.oauth.reads import active_access_token, application_and_secrets, introspected_token
from applications.services import rotate_secret
from portal.actors import COMMAND_LINE


@pytest.fixture
def application(make_application):
    application, _ = make_application()
    Application.objects.filter(pk=application.pk).update(last_used_at=timezone.now())
    return Application.objects.get(pk=application.pk)


def test_the_grants_application_load_matches_the_orms_in_every_field(application):
    loaded, _ = application_and_secrets(application.client_id)

    for field in Application._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(application, field.attname), field.name
        assert type(getattr(loaded, field.attname)) is type(getattr(application, field.attname)), field.name


def test_the_grants_application_load_brings_its_unrevoked_secrets_in_the_same_query(
    application, django_assert_num_queries
):
    rotate_secret(application=application, actor=COMMAND_LINE, keep_current_for=None)
    revoked = ClientSecret.objects.create(application=application, secret_hash="revoked", revoked_at=timezone.now())
    with django_assert_num_queries(1):
        _, secrets = application_and_secrets(application.client_id)

    expected = ClientSecret.objects.filter(application=application, revoked_at__isnull=True).order_by("pk")
    loaded = sorted(secrets, key=lambda secret: secret.pk)
    assert [secret.pk for secret in loaded] == [secret.pk for secret in expected] != []
    assert revoked.pk not in [secret.pk for secret in loaded]
    for got, want in zip(loaded, expected, strict=True):
        for name in ["application_id", "secret_hash", "expires_at", "last_used_at", "revoked_at"]:
            assert getattr(got, name) == getattr(want, name), name


def test_an_application_without_unrevoked_secrets_loads_with_none(application):
    ClientSecret.objects.filter(application=application).update(revoked_at=timezone.now())

    loaded, secrets = application_and_secrets(application.client_id)

    assert loaded.pk == application.pk and secrets == []


def test_an_unknown_client_id_loads_nothing(db):
    assert application_and_secrets("no-such-client") is None


def make_token(application, raw, **fields):
    token = AccessToken(
        application=application,
        scope="read:credentials",
        expires=fields.pop("expires", timezone.now() + dt.timedelta(hours=1)),
        **fields,
    )
    token._raw_token = raw  # stored as its checksum only
    token.save()
    return token


def test_the_bearer_lookup_loads_the_token_its_application_and_organization_in_one_query(
    application, django_assert_num_queries
):
    stored = make_token(application, "raw-token-value")

    with django_assert_num_queries(1):
        found = active_access_token("raw-token-value")
        organization = found.application.organization

    assert found.pk == stored.pk
    assert found.scope == "read:credentials"
    assert found.expires == AccessToken.objects.get(pk=stored.pk).expires
    assert found.application.pk == application.pk
    assert found.application.last_used_at == application.last_used_at
    assert organization == application.organization
    assert (organization.public_id, organization.created_at) == (
        application.organization.public_id,
        application.organization.created_at,
    )


def test_the_bearer_lookup_refuses_unknown_and_expired_tokens(application):
    make_token(application, "expired", expires=timezone.now() - dt.timedelta(seconds=1))

    assert active_access_token("unknown") is None
    assert active_access_token("expired") is None
    assert active_access_token("") is None


def test_the_bearer_lookup_reads_afresh_so_a_revoked_token_fails_at_once(application):
    stored = make_token(application, "revoke-me")
    assert active_access_token("revoke-me") is not None

    stored.revoke()

    assert active_access_token("revoke-me") is None


def test_introspection_reads_the_tokens_own_columns_in_one_query(application, django_assert_num_queries):
    stored = make_token(application, "introspect-me")
    stored = AccessToken.objects.get(pk=stored.pk)

    with django_assert_num_queries(1):
        found = introspected_token("introspect-me")
        claims = (found.pk, found.application_id, found.scope, found.expires, found.created)

    assert claims == (stored.pk, application.pk, "read:credentials", stored.expires, stored.created)


def test_introspection_reads_unknown_expired_and_revoked_tokens_as_none(application):
    make_token(application, "expired", expires=timezone.now() - dt.timedelta(seconds=1))
    revoked = make_token(application, "revoked")
    revoked.revoke()

    assert [introspected_token(value) for value in ["unknown", "expired", "revoked", ""]] == [None] * 4
