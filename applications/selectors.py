import math
from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from applications.models import Application, AuditEvent, ClientSecret, FederatedCredential, PublicKey

# The list page marks applications whose every live secret expires within this many days.
EXPIRY_WARNING_DAYS = 14
# The view page shows a secret a leak report revoked for this many days, and for as long as no secret is live.
LEAK_SHOWN_DAYS = 30


def live_secrets_query(now=None) -> QuerySet[ClientSecret]:
    now = now or timezone.now()
    return ClientSecret.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True)


def live_keys_query(now=None) -> QuerySet[PublicKey]:
    now = now or timezone.now()
    return PublicKey.objects.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True)


def live_federated_credentials_query(now=None) -> QuerySet[FederatedCredential]:
    # `now` as the other kinds take it: a federated credential never expires.
    return FederatedCredential.objects.filter(revoked_at__isnull=True)


# Every kind of credential an application authenticates with (contract §10): the queries of its live ones.
LIVE_CREDENTIALS = (live_secrets_query, live_keys_query, live_federated_credentials_query)


def live_credential_count(application) -> int:
    """Live credentials of every kind, from what applications_for prefetched."""
    return len(application.live_secrets) + len(application.live_keys) + len(application.live_federated_credentials)


def signs_in_without_a_secret(application, now=None) -> bool:
    """Whether the application, with no live secret, still has a live key or federated credential to sign in with."""
    now = now or timezone.now()
    return any(key.is_live(now) for key in application.live_keys) or bool(application.live_federated_credentials)


def applications_for(organization) -> QuerySet[Application]:
    """The organization's applications, newest first, each with its `live_secrets`, `live_keys` and
    `live_federated_credentials`, and whether a leak report revoked one of its secrets (`reported_leaked`).

    Tenant scoping happens here and nowhere else.
    """
    leaked = ClientSecret.objects.filter(application=OuterRef("pk"), leak_url__isnull=False)
    return (
        Application.objects.filter(organization=organization)
        .select_related("created_by")
        .annotate(reported_leaked=Exists(leaked))
        .prefetch_related(
            Prefetch("secrets", queryset=live_secrets_query(), to_attr="live_secrets"),
            Prefetch("keys", queryset=live_keys_query(), to_attr="live_keys"),
            Prefetch(
                "federated_credentials",
                queryset=live_federated_credentials_query(),
                to_attr="live_federated_credentials",
            ),
        )
        .order_by("-created", "-id")
    )


def get_application(*, organization, public_id) -> Application:
    """The organization's application, or Http404, also for another organization's application."""
    application = get_object_or_404(applications_for(organization), public_id=public_id)
    # The caller holds the organization already: the services' permission check and audit record
    # read it from the application, and would otherwise load it again.
    application.organization = organization
    return application


def get_unrevoked_secret(*, application, public_id) -> ClientSecret:
    """One unrevoked secret of the application, live or expired, or Http404 (also for a revoked one, or another's).

    An expired secret is still found: revoking it ends the tokens it issued, which outlive it.
    """
    unrevoked = ClientSecret.objects.filter(application=application, revoked_at__isnull=True)
    secret = get_object_or_404(unrevoked, public_id=public_id)
    # revoke_secret starts from the secret's application: the one in hand, not a second read of it.
    secret.application = application
    return secret


def get_unrevoked_key(*, application, public_id) -> PublicKey:
    """One unrevoked key of the application, live or expired, or Http404 (as get_unrevoked_secret)."""
    unrevoked = PublicKey.objects.filter(application=application, revoked_at__isnull=True)
    key = get_object_or_404(unrevoked, public_id=public_id)
    key.application = application
    return key


def get_federated_credential(*, application, public_id) -> FederatedCredential:
    """One live federated credential of the application, or Http404 (also for a revoked one, or another's)."""
    credential = get_object_or_404(
        live_federated_credentials_query().filter(application=application), public_id=public_id
    )
    credential.application = application
    return credential


def expired_with_valid_tokens(model, application, now=None) -> list:
    """The application's expired, unrevoked credentials of `model` (ClientSecret, PublicKey) that issued tokens still
    valid, each with `valid_tokens`."""
    now = now or timezone.now()
    valid = Count("issued_tokens", filter=Q(issued_tokens__access_token__expires__gt=now))
    expired = model.objects.filter(application=application, revoked_at__isnull=True, expires_at__lte=now)
    return list(expired.annotate(valid_tokens=valid).filter(valid_tokens__gt=0))


def expired_secrets_with_valid_tokens(application, now=None) -> list[ClientSecret]:
    return expired_with_valid_tokens(ClientSecret, application, now)


def leaked_secrets(application, now=None) -> list[ClientSecret]:
    """The application's secrets a leak report revoked, each with its `leak_url`: those of the last LEAK_SHOWN_DAYS
    days, and all of them while the application has no live credential."""
    now = now or timezone.now()
    leaked = ClientSecret.objects.filter(application=application, leak_url__isnull=False)
    if application.live_secrets or application.live_keys or application.live_federated_credentials:
        leaked = leaked.filter(revoked_at__gt=now - timedelta(days=LEAK_SHOWN_DAYS))
    return list(leaked)


def secret_expiry(application, now=None) -> tuple[str, int | None] | None:
    """("leaked", None) when no live secret is left and a leak report revoked one, ("expired", None) when none is
    left otherwise, ("expiring", days) when every live one ends within EXPIRY_WARNING_DAYS (counting to the last of
    them, whole days rounded up), else None."""
    now = now or timezone.now()
    live = [secret for secret in application.live_secrets if secret.is_live(now)]
    if not live and signs_in_without_a_secret(application, now):
        return None  # no secret, and no need of one: it signs in with its keys or federated credentials
    if not live:
        return ("leaked" if application.reported_leaked else "expired", None)
    if any(secret.expires_at is None for secret in live):
        return None
    last = max(secret.expires_at for secret in live)
    if last - now > timedelta(days=EXPIRY_WARNING_DAYS):
        return None
    return ("expiring", max(1, math.ceil((last - now) / timedelta(days=1))))


def audit_events_for(organization) -> QuerySet[AuditEvent]:
    """The organization's audit trail, newest first, including deleted applications' records."""
    return AuditEvent.objects.filter(organization=organization).select_related("actor")


def audit_events_for_application(application) -> QuerySet[AuditEvent]:
    return audit_events_for(application.organization_id).filter(application_public_id=application.public_id)
