import secrets
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauth2_provider.settings import oauth2_settings

from applications import issuers
from applications import scopes as catalog
from applications.audit import record_event
from applications.identifiers import generate_client_secret
from applications.keys import KeyRefused, generate_key_pair, parse_public_key
from applications.lifetimes import EXPIRES_IN_DAYS, KEEP_CURRENT_FOR, token_lifetime_choices
from applications.models import Application, AuditEvent, ClientSecret, FederatedCredential, IssuedToken, PublicKey
from applications.oauth.reads import token_checksum
from applications.remote import FetchError
from applications.selectors import (
    LIVE_CREDENTIALS,
    live_federated_credentials_query,
    live_keys_query,
    live_secrets_query,
)
from portal import form_tokens
from portal.actors import Actor, require_admin, require_no_escalation
from portal.addresses import parse_network, spell
from portal.names import name_digest

NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 1000
NAME_TAKEN = "An application with this name already exists in the organization."
# "Last used" is for people; writing it more often than this would cost every request a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)

# Contract §11: the addresses and ranges an application's requests may come from.
MAX_ALLOWED_NETWORKS = 50

# Contract §6: an application holds one or two live secrets (the current one and its successor).
MAX_LIVE_SECRETS = 2
# Contract §10: and up to five live public keys, and twenty federated credentials.
MAX_LIVE_KEYS = 5
MAX_FEDERATED_CREDENTIALS = 20
SUBJECT_MAX_LENGTH = 600
AUDIENCE_MAX_LENGTH = 255


class SecretLimitReached(Exception):
    def __init__(self):
        super().__init__(
            f"This application already has {MAX_LIVE_SECRETS} live secrets: revoke one of them first, "
            "then generate a new one."
        )


class LastLiveCredential(Exception):
    def __init__(self):
        super().__init__(
            "This is the application's last live credential and cannot be revoked: generate a new secret or add a "
            "key first, or delete the application."
        )


class KeyLimitReached(Exception):
    def __init__(self):
        super().__init__(f"This application already has {MAX_LIVE_KEYS} live keys: revoke one of them first.")


class DuplicateKey(Exception):
    def __init__(self):
        super().__init__("This key is already one of the application's live keys.")


class FederatedCredentialLimitReached(Exception):
    def __init__(self):
        super().__init__(
            f"This application already has {MAX_FEDERATED_CREDENTIALS} federated credentials: revoke one of them first."
        )


class DuplicateFederatedCredential(Exception):
    def __init__(self):
        super().__init__("This application already has a federated credential with this issuer, subject and audience.")


def _clean_name(*, organization, name: str, exclude_pk=None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Enter a name."})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": f"Use at most {NAME_MAX_LENGTH} characters."})
    # Look-alike names (Unicode NFKC and case folding: "Ｎｉｇｈｔｌｙ", "ﬁle", "Straße") are one name.
    taken = Application.objects.filter(organization=organization, name_key=name_digest(name)).exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"name": NAME_TAKEN})
    return name


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError({"description": f"Use at most {DESCRIPTION_MAX_LENGTH} characters."})
    return description


def _clean_token_lifetime(token_lifetime) -> int:
    if token_lifetime not in token_lifetime_choices() or isinstance(token_lifetime, bool):
        choices = ", ".join(str(value) for value in token_lifetime_choices())
        raise ValidationError({"token_lifetime": f"Choose one of {choices} seconds."})
    return token_lifetime


def clean_allowed_networks(entries) -> list[str]:
    """Allowed networks as stored: each spelled one way, in the order given, once; ValidationError naming each entry
    that is no IP address or CIDR range, or saying there are too many."""
    entries = [entry.strip() for entry in entries if entry.strip()]
    if len(entries) > MAX_ALLOWED_NETWORKS:
        raise ValidationError(
            {"allowed_networks": f"Give at most {MAX_ALLOWED_NETWORKS} networks ({len(entries)} were given)."}
        )
    networks, errors = [], []
    for entry in entries:
        try:
            networks.append(spell(parse_network(entry)))
        except ValueError as error:
            errors.append(str(error))
    if errors:
        raise ValidationError({"allowed_networks": errors})
    return list(dict.fromkeys(networks))


def _whole_number_or_none(value, *, field: str, low: int, high: int, unit: str, none_means: str) -> int | None:
    # bool is an int in Python; True is no number of seconds or days.
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError({field: f"Give a number of {unit}, or none for {none_means}."})
    if not low <= value <= high:
        raise ValidationError({field: f"Give {low} to {high} {unit}."})
    return value


def _clean_keep_current_for(keep_current_for) -> int | None:
    return _whole_number_or_none(
        keep_current_for,
        field="keep_current_for",
        low=KEEP_CURRENT_FOR.low,
        high=KEEP_CURRENT_FOR.high,
        unit="seconds",
        none_means="until revoked",
    )


def _expiry(expires_in_days, now):
    days = _whole_number_or_none(
        expires_in_days,
        field="expires_in_days",
        low=EXPIRES_IN_DAYS.low,
        high=EXPIRES_IN_DAYS.high,
        unit="days",
        none_means="never",
    )
    return None if days is None else now + timedelta(days=days)


def _clean_scopes(scopes) -> list[str]:
    scopes = list(scopes or [])
    unknown = sorted(set(scopes) - set(catalog.SCOPES))
    if unknown:
        raise ValidationError({"scopes": f"Unknown scope: {', '.join(unknown)}."})
    if not scopes:
        raise ValidationError({"scopes": "Choose at least one scope."})
    return catalog.in_catalog_order(scopes)


class FormAlreadySubmitted(form_tokens.FormAlreadySubmitted):
    """The one-time form token already created an application; `earlier` is it, when in this organization."""


def _refuse_spent_form_token(*, organization, form_token: str) -> None:
    form_tokens.refuse_spent_form_token(
        Application, organization=organization, form_token=form_token, error=FormAlreadySubmitted
    )


@transaction.atomic
def create_application(
    *,
    organization,
    name: str,
    description: str = "",
    scopes,
    actor: Actor,
    form_token: str | None = None,
    expires_in_days: int | None = EXPIRES_IN_DAYS.default,
    token_lifetime: int | None = None,
) -> tuple[Application, str]:
    """Create an Application and its first secret; the plaintext is returned here once and stored only as a hash.

    With `form_token`, a second call with the same token creates nothing and raises FormAlreadySubmitted.
    """
    require_admin(actor, organization)
    now = timezone.now()
    expires_at = _expiry(expires_in_days, now)
    if token_lifetime is not None:
        token_lifetime = _clean_token_lifetime(token_lifetime)
    if form_token is not None:
        # Before the name check: a resubmitted form repeats the name it already used.
        _refuse_spent_form_token(organization=organization, form_token=form_token)
    name = _clean_name(organization=organization, name=name)
    application = Application(
        organization=organization,
        name=name,
        name_key=name_digest(name),
        description=_clean_description(description),
        scopes=" ".join(_clean_scopes(scopes)),
        created_by=actor.user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        hash_client_secret=True,
        form_token=form_token,
        token_lifetime=token_lifetime,
    )
    # The toolkit's column gets the hash of a value nobody keeps (ClientSecretField hashes on
    # save): the client authenticates against its ClientSecret rows only.
    application.client_secret = secrets.token_urlsafe(32)
    try:
        form_tokens.insert_once(application, refuse_spent=_refuse_spent_form_token)
    except IntegrityError:
        # A concurrent create took the name between the check and the insert.
        raise ValidationError({"name": NAME_TAKEN})
    row, secret = _add_secret(application=application, expires_at=expires_at, now=now)
    record_event(
        application=application,
        action=AuditEvent.Action.CREATED,
        actor=actor,
        changes={"scopes": [None, application.scopes]},
    )
    return application, secret


def _add_secret(*, application, expires_at, now, form_token=None) -> tuple[ClientSecret, str]:
    # This function and its callers are the only places the plaintext exists; the row keeps its hash.
    secret = generate_client_secret()
    row = ClientSecret.objects.create(
        application=application,
        secret_hash=make_password(secret, hasher=oauth2_settings.CLIENT_SECRET_HASHER),
        hint=secret[-4:],
        lookup_key=token_checksum(secret),
        created_at=now,
        expires_at=expires_at,
        form_token=form_token,
    )
    return row, secret


def _lock(application: Application) -> bool:
    """Lock the application's row until the transaction ends; False when it no longer exists."""
    locked = Application.objects.select_for_update().filter(pk=application.pk).values_list("pk", flat=True)
    return locked.first() is not None


def _live_secrets(application: Application, now) -> list[ClientSecret]:
    # Read after _lock: what a concurrent rotation or revocation committed is seen.
    return list(live_secrets_query(now).filter(application=application))


class SecretFormAlreadySubmitted(FormAlreadySubmitted):
    """The one-time token of a "Generate new secret" form was already spent."""


def _refuse_spent_secret_form_token(*, application, form_token: str) -> None:
    earlier = ClientSecret.objects.filter(form_token=form_token).select_related("application").first()
    if earlier is not None:
        same = earlier.application.organization_id == application.organization_id
        raise SecretFormAlreadySubmitted(earlier.application if same else None)


@transaction.atomic
def rotate_secret(
    *,
    application: Application,
    actor: Actor,
    keep_current_for: int | None = KEEP_CURRENT_FOR.default,
    expires_in_days: int | None = EXPIRES_IN_DAYS.default,
    form_token: str | None = None,
) -> tuple[ClientSecret, str]:
    """Generate a new secret; the current live one stops working after `keep_current_for` seconds (None: never).

    Rotation never extends a secret's life, and tokens already issued live out their lifetime.
    Raises SecretLimitReached with two live secrets already, changing nothing, and
    Application.DoesNotExist when the application was deleted meanwhile.
    """
    require_no_escalation(actor, application)
    keep_current_for = _clean_keep_current_for(keep_current_for)
    now = timezone.now()
    expires_at = _expiry(expires_in_days, now)
    # The row lock serialises rotations, revocations and the deletion of one application (two
    # racing rotations cannot both see one live secret), and finds a concurrent deletion.
    if not _lock(application):
        raise Application.DoesNotExist("The application was deleted.")
    if form_token is not None:
        _refuse_spent_secret_form_token(application=application, form_token=form_token)
    current = _live_secrets(application, now)
    if len(current) >= MAX_LIVE_SECRETS:
        raise SecretLimitReached()
    if keep_current_for is not None:
        until = now + timedelta(seconds=keep_current_for)
        for secret in current:
            if secret.expires_at is None or secret.expires_at > until:
                secret.expires_at = until
                secret.save(update_fields=["expires_at"])
    try:
        with transaction.atomic():
            row, plaintext = _add_secret(application=application, expires_at=expires_at, now=now, form_token=form_token)
    except IntegrityError:
        if form_token is not None:
            _refuse_spent_secret_form_token(application=application, form_token=form_token)
        raise Application.DoesNotExist("The application was deleted.")
    record_event(
        application=application,
        action=AuditEvent.Action.SECRET_GENERATED,
        actor=actor,
        changes={
            "secret": row.hint,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "keep_current_for": keep_current_for,
        },
    )
    return row, plaintext


def refuse_revoking_the_last_live_credential(*, application: Application, credential, now) -> None:
    """Contract §10: an application keeps at least one live credential of any kind; raises LastLiveCredential when
    `credential` is the last. An expired credential is no live one: revoking it (to end its tokens) is never refused.

    Called with the application's row locked (`_lock`), so two revocations cannot each leave the other's last.
    """
    if not credential.is_live(now):
        return
    live = sum(query(now).filter(application=application).count() for query in LIVE_CREDENTIALS)
    if live <= 1:
        raise LastLiveCredential()


def _revoke(credential, *, actor: Actor, revoke_tokens: bool, action: str, changes: dict) -> int:
    """Revoke an unrevoked credential (a ClientSecret, a PublicKey or a FederatedCredential) at once, and with
    `revoke_tokens` every access token issued with it; returns how many tokens were revoked.

    Raises the model's DoesNotExist when it is revoked already or its application is gone, and LastLiveCredential.
    """
    model = type(credential)
    application = credential.application
    require_no_escalation(actor, application)
    if not _lock(application):
        raise model.DoesNotExist("The application was deleted.")
    now = timezone.now()
    # Read again under the lock: a concurrent revocation or an expiry since the page was read is seen.
    credential = model.objects.filter(application=application, pk=credential.pk, revoked_at__isnull=True).first()
    if credential is None:
        raise model.DoesNotExist("The credential is revoked already.")
    refuse_revoking_the_last_live_credential(application=application, credential=credential, now=now)
    credential.revoked_at = now
    credential.save(update_fields=["revoked_at"])
    revoked = _revoke_tokens_issued_with(credential) if revoke_tokens else 0
    record_event(
        application=application,
        action=action,
        actor=actor,
        changes={**changes, "tokens_revoked": revoked if revoke_tokens else None},
    )
    return revoked


@transaction.atomic
def revoke_secret(*, secret: ClientSecret, actor: Actor, revoke_tokens: bool = True) -> int:
    """Revoke a secret at once, and with `revoke_tokens` every access token issued with it.

    An expired secret may be revoked too: that ends the tokens it issued, which outlive it. Returns how many
    tokens were revoked. Raises LastLiveCredential for the application's last live credential, and
    ClientSecret.DoesNotExist when the secret is revoked already or the application is gone.
    """
    return _revoke(
        secret,
        actor=actor,
        revoke_tokens=revoke_tokens,
        action=AuditEvent.Action.SECRET_REVOKED,
        changes={"secret": secret.hint},
    )


class KeyFormAlreadySubmitted(FormAlreadySubmitted):
    """The one-time token of a "Generate key pair" form was already spent."""


def _refuse_spent_key_form_token(*, application, form_token: str) -> None:
    earlier = PublicKey.objects.filter(form_token=form_token).select_related("application").first()
    if earlier is not None:
        same = earlier.application.organization_id == application.organization_id
        raise KeyFormAlreadySubmitted(earlier.application if same else None)


def _add_key(*, application: Application, parsed, expires_at, now, form_token=None) -> PublicKey:
    """Store a parsed public key, with the application's row locked: at most MAX_LIVE_KEYS live ones, none twice."""
    if not _lock(application):
        raise Application.DoesNotExist("The application was deleted.")
    if form_token is not None:
        _refuse_spent_key_form_token(application=application, form_token=form_token)
    live = list(live_keys_query(now).filter(application=application))
    if any(key.kid == parsed.kid for key in live):
        raise DuplicateKey()
    if len(live) >= MAX_LIVE_KEYS:
        raise KeyLimitReached()
    try:
        with transaction.atomic():
            return PublicKey.objects.create(
                application=application,
                kid=parsed.kid,
                alg=parsed.alg,
                public_key=parsed.pem,
                created_at=now,
                expires_at=expires_at,
                form_token=form_token,
            )
    except IntegrityError:
        if form_token is not None:
            _refuse_spent_key_form_token(application=application, form_token=form_token)
        raise Application.DoesNotExist("The application was deleted.")


def _key_changes(key: PublicKey) -> dict:
    return {"key": key.kid, "alg": key.alg, "expires_at": key.expires_at.isoformat() if key.expires_at else None}


@transaction.atomic
def add_key(
    *, application: Application, actor: Actor, public_key, expires_in_days: int | None = EXPIRES_IN_DAYS.default
) -> PublicKey:
    """Add an uploaded public key (PEM text, or a JWK as text or decoded): contract §10.

    Raises ValidationError naming `public_key` for anything that is no accepted public key (a private key
    among them: refused, and nothing of it kept), DuplicateKey, KeyLimitReached, and Application.DoesNotExist.
    """
    require_no_escalation(actor, application)
    now = timezone.now()
    expires_at = _expiry(expires_in_days, now)
    try:
        parsed = parse_public_key(public_key)
    except KeyRefused as refused:
        raise ValidationError({"public_key": str(refused)})
    key = _add_key(application=application, parsed=parsed, expires_at=expires_at, now=now)
    record_event(application=application, action=AuditEvent.Action.KEY_ADDED, actor=actor, changes=_key_changes(key))
    return key


@transaction.atomic
def generate_key(
    *,
    application: Application,
    actor: Actor,
    expires_in_days: int | None = EXPIRES_IN_DAYS.default,
    form_token: str | None = None,
) -> tuple[PublicKey, str]:
    """Generate an EC P-256 key pair and keep its public key; the private key (PKCS#8 PEM) is returned here once.

    With `form_token`, a second call with the same token generates nothing and raises KeyFormAlreadySubmitted.
    """
    require_no_escalation(actor, application)
    now = timezone.now()
    expires_at = _expiry(expires_in_days, now)
    parsed, private_pem = generate_key_pair()
    key = _add_key(application=application, parsed=parsed, expires_at=expires_at, now=now, form_token=form_token)
    record_event(
        application=application, action=AuditEvent.Action.KEY_GENERATED, actor=actor, changes=_key_changes(key)
    )
    return key, private_pem


@transaction.atomic
def revoke_key(*, key: PublicKey, actor: Actor, revoke_tokens: bool = True) -> int:
    """Revoke a key at once, and with `revoke_tokens` every access token issued through it (as revoke_secret)."""
    return _revoke(
        key, actor=actor, revoke_tokens=revoke_tokens, action=AuditEvent.Action.KEY_REVOKED, changes={"key": key.kid}
    )


def _clean_text(errors: dict, field: str, value, *, max_length: int, missing: str) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if not value:
        errors[field] = missing
    elif len(value) > max_length:
        errors[field] = f"Use at most {max_length} characters."
    elif not value.isprintable():
        errors[field] = "Use printable characters only: no tab, line break or control character."
    return value


def _clean_federated_credential(*, name, issuer, subject, audience) -> dict:
    errors = {}
    values = {
        "name": _clean_text(errors, "name", name, max_length=NAME_MAX_LENGTH, missing="Enter a name."),
        "issuer": _clean_text(
            errors, "issuer", issuer, max_length=issuers.MAX_ISSUER_LENGTH, missing="Enter the issuer."
        ),
        "subject": _clean_text(errors, "subject", subject, max_length=SUBJECT_MAX_LENGTH, missing="Enter the subject."),
        "audience": _clean_text(
            errors, "audience", audience, max_length=AUDIENCE_MAX_LENGTH, missing="Enter the audience."
        ),
    }
    if "issuer" not in errors and (problem := issuers.issuer_problem(values["issuer"])):
        errors["issuer"] = problem
    if "subject" not in errors and "*" in values["subject"]:
        # No workload's subject holds one: a * here would only look like a wildcard and never match.
        errors["subject"] = "Subjects are compared exactly: * is no wildcard, and no workload's subject holds one."
    if errors:
        raise ValidationError(errors)
    return values


def _refuse_another_federated_credential(application: Application, values: dict) -> None:
    live = live_federated_credentials_query().filter(application=application)
    if live.filter(issuer=values["issuer"], subject=values["subject"], audience=values["audience"]).exists():
        raise DuplicateFederatedCredential()
    if live.count() >= MAX_FEDERATED_CREDENTIALS:
        raise FederatedCredentialLimitReached()


def add_federated_credential(
    *, application: Application, actor: Actor, name: str, issuer: str, subject: str, audience: str
) -> FederatedCredential:
    """Trust the tokens `issuer` gives the workload `subject` for `audience` (contract §10), once the issuer's keys
    could be read: its discovery document, then its jwks_uri, under the rules of applications.issuers.

    The issuer is read before the application's row is locked (a read may take seconds), and the limits are checked
    again under the lock. Raises ValidationError naming the field (for an issuer that cannot be read, the URL tried),
    DuplicateFederatedCredential, FederatedCredentialLimitReached and Application.DoesNotExist.
    """
    require_no_escalation(actor, application)
    values = _clean_federated_credential(name=name, issuer=issuer, subject=subject, audience=audience)
    # Before any fetch: a limit reached is said as such, whatever the issuer.
    _refuse_another_federated_credential(application, values)
    try:
        keys = issuers.read_keys(values["issuer"])
    except FetchError as error:
        raise ValidationError({"issuer": f"The issuer's keys could not be read: {error}"})
    if not keys:
        raise ValidationError(
            {
                "issuer": f"{values['issuer']} publishes no signing key the portal takes (RSA of 2048 to 8192 bits, "
                "EC P-256 or Ed25519)."
            }
        )
    issuers.keep(values["issuer"], keys)
    with transaction.atomic():
        if not _lock(application):
            raise Application.DoesNotExist("The application was deleted.")
        _refuse_another_federated_credential(application, values)
        credential = FederatedCredential.objects.create(application=application, **values)
        record_event(
            application=application,
            action=AuditEvent.Action.FEDERATED_ADDED,
            actor=actor,
            changes={
                "federated_credential": credential.name,
                **{field: values[field] for field in values if field != "name"},
            },
        )
    return credential


@transaction.atomic
def revoke_federated_credential(*, credential: FederatedCredential, actor: Actor, revoke_tokens: bool = True) -> int:
    """Revoke a federated credential at once, and with `revoke_tokens` every access token issued through it (as
    revoke_secret)."""
    return _revoke(
        credential,
        actor=actor,
        revoke_tokens=revoke_tokens,
        action=AuditEvent.Action.FEDERATED_REVOKED,
        changes={"federated_credential": credential.name},
    )


def _revoke_tokens_issued_with(credential) -> int:
    """Delete every access token issued with the credential (a ClientSecret, a PublicKey or a FederatedCredential);
    returns how many."""
    AccessToken = get_access_token_model()
    field = IssuedToken.CREDENTIAL_FIELDS[type(credential)]
    _, deleted = AccessToken.objects.filter(**{f"issued_with__{field}": credential}).delete()
    return deleted.get(AccessToken._meta.label, 0)


@transaction.atomic
def revoke_leaked_secret(*, secret: ClientSecret, url: str, actor: Actor) -> bool:
    """Revoke a secret found in public, and every token it issued, at once: its only live one too (contract §12).

    The caller has verified the leak report, whoever's the secret is: `actor` (the reporter) is recorded, never
    checked. False when the secret is no longer live (revoked, expired, or its application deleted), changing nothing.
    """
    application = secret.application
    if not _lock(application):
        return False
    now = timezone.now()
    # Conditional: of two reports of one secret at once, one revokes it and the other finds it revoked.
    if not live_secrets_query(now).filter(pk=secret.pk).update(revoked_at=now, leak_url=url):
        return False
    secret.revoked_at, secret.leak_url = now, url
    revoked = _revoke_tokens_issued_with(secret)
    record_event(
        application=application,
        action=AuditEvent.Action.SECRET_LEAKED,
        actor=actor,
        changes={"secret": secret.hint, "url": url, "tokens_revoked": revoked},
    )
    return True


@transaction.atomic
def revoke_leaked_token(*, access_token, url: str, actor: Actor) -> bool:
    """Revoke an access token found in public, alone: the secret that issued it stays live (contract §12).

    As revoke_leaked_secret, the caller has verified the report. False when the token is gone or expired already.
    """
    unexpired = type(access_token).objects.filter(pk=access_token.pk, expires__gt=timezone.now())
    if not unexpired.delete()[0]:
        return False
    record_event(
        application=access_token.application, action=AuditEvent.Action.TOKEN_LEAKED, actor=actor, changes={"url": url}
    )
    return True


class SelfSuspension(PermissionDenied):
    def __init__(self):
        super().__init__("An application may not suspend itself: an admin, or another application, may.")


@transaction.atomic
def update_application(
    *,
    application: Application,
    actor: Actor,
    name=None,
    description=None,
    token_lifetime=None,
    allowed_networks=None,
    suspended: bool | None = None,
) -> Application:
    """Rename or redescribe an application, change the lifetime of the tokens it gets from now on, the networks its
    requests may come from, or suspend or resume it; each from the next request on, on every server.

    Scopes are fixed at creation and never change.
    """
    require_admin(actor, application.organization)
    if token_lifetime is not None or allowed_networks is not None or suspended is not None:
        require_no_escalation(actor, application)
    if suspended and actor.application is not None and actor.application.pk == application.pk:
        raise SelfSuspension()
    new_values = {}
    if name is not None:
        new_values["name"] = _clean_name(organization=application.organization, name=name, exclude_pk=application.pk)
    if description is not None:
        new_values["description"] = _clean_description(description)
    if token_lifetime is not None:
        new_values["token_lifetime"] = _clean_token_lifetime(token_lifetime)
    if allowed_networks is not None:
        new_values["allowed_networks"] = clean_allowed_networks(allowed_networks)
    if suspended is not None:
        new_values["suspended"] = bool(suspended)
    current = {field: getattr(application, field) for field in new_values}
    if "token_lifetime" in current:
        current["token_lifetime"] = application.effective_token_lifetime
    changes = {field: [current[field], value] for field, value in new_values.items() if current[field] != value}
    if not changes:
        return application
    for field, (_, value) in changes.items():
        setattr(application, field, value)
    fields = [*changes, "updated"]
    if "name" in changes:
        application.name_key = name_digest(application.name)
        fields.append("name_key")
    try:
        with transaction.atomic():
            application.save(update_fields=fields)
    except IntegrityError:
        # A concurrent create or rename took the name between the check and the save.
        raise ValidationError({"name": NAME_TAKEN})
    # Suspending and resuming are events of their own in Activity; any other change is an update, old and new.
    if "suspended" in changes:
        action = AuditEvent.Action.SUSPENDED if changes.pop("suspended")[1] else AuditEvent.Action.RESUMED
        record_event(application=application, action=action, actor=actor)
    if changes:
        record_event(application=application, action=AuditEvent.Action.UPDATED, actor=actor, changes=changes)
    return application


@transaction.atomic
def delete_application(*, application: Application, actor: Actor) -> None:
    """Delete an application; its tokens go with it (cascade), so they fail from the next request on."""
    require_admin(actor, application.organization)
    # Lock the row first: a grant storing a token for it waits (its foreign key needs a share
    # lock on the row) instead of slipping a token in between the cascade's read of the tokens
    # and the delete, which PostgreSQL refuses at commit; the waiting grant then fails as for any
    # deleted client. A rotation or revocation likewise waits and then finds nothing, or the
    # deletion waits for it and deletes the secret it added: taking the audit record's weaker
    # lock first and the delete's later would deadlock with a rotation queued in between.
    _lock(application)
    record_event(application=application, action=AuditEvent.Action.DELETED, actor=actor)
    application.delete()


def record_lockout(*, client_id: str, address: str | None) -> None:
    """Audit the moment failed authentications lock an application's client ID out of the token endpoint."""
    application = Application.objects.filter(client_id=client_id).first()
    if application is not None:
        actor = Actor.server("token endpoint", address)
        record_event(application=application, action=AuditEvent.Action.LOCKED_OUT, actor=actor)


def record_use(
    used: Application | ClientSecret | PublicKey | FederatedCredential, *, address: str | None = None
) -> None:
    """Note that an application, or one of its credentials, was just used: at most one write a minute each.

    A credential also keeps the client address of the use that wrote the time, in the same write.
    """
    now = timezone.now()
    if used.last_used_at is None or now - used.last_used_at >= LAST_USED_RESOLUTION:
        values = {"last_used_at": now}
        if not isinstance(used, Application):
            values["last_used_address"] = address
        type(used).objects.filter(pk=used.pk).update(**values)
        for name, value in values.items():
            setattr(used, name, value)
