"""Second factors (contract §13): authenticator apps, passkeys and recovery codes, the second step of sign-in, and the
organization's policy.

The libraries do the verifying: django-otp's RFC 6238 TOTP (`django_otp.oath.TOTP`) checks codes, and
django-otp-webauthn's helper over py_webauthn runs the passkey ceremonies and keeps the credentials. What is ours is
what they leave to the site: the secret kept encrypted, each code accepted once across servers, recovery codes kept
as hashes, and the sign-in that waits for the second step.
"""

import base64
import binascii
import ipaddress
import json
import re
import secrets
import time
from urllib.parse import quote, urlencode

import segno
from django.contrib.auth import get_user_model, login
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http.request import split_domain_port
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.debug import sensitive_variables
from django_otp import user_has_device
from django_otp.oath import TOTP
from django_otp_webauthn.exceptions import OTPWebAuthnApiError
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import UserVerificationRequirement

from portal import crypto
from portal.actors import Actor, require_admin
from portal.models import AuthenticatorApp, MemberEvent, Organization, RecoveryCode
from portal.selectors import memberships_for
from portal.services import record_member_event

TOTP_PURPOSE = "totp secret"
TOTP_ISSUER = "Integrations Portal"
# Session keys. The secret shown while an authenticator app is being added is kept there encrypted, never as text.
PENDING_TOTP_KEY = "two_factor_pending_totp"
PENDING_SIGN_IN_KEY = "two_factor_pending_sign_in"
REGISTRATION_STATE_KEY = "two_factor_passkey_registration"
AUTHENTICATION_STATE_KEY = "two_factor_passkey_authentication"
# How long the second step waits after the password, and a pending authenticator app's secret stays offered.
SECOND_STEP_SECONDS = 600
PENDING_TOTP_SECONDS = 3600
RECOVERY_CODE_COUNT = 10
_SIX_DIGITS = re.compile(r"\A[0-9]{6}\Z")
_RECOVERY_CODE = re.compile(r"\A[a-z2-7]{16}\Z")


def has_second_factor(user) -> bool:
    """An authenticator app or a passkey (recovery codes only stand in for one)."""
    return user_has_device(user, confirmed=True)


def with_two_factor(users: QuerySet, *, user_field: str = "pk") -> QuerySet:
    """`users` (or rows naming a user in `user_field`) annotated with `has_two_factor`, in the same query."""
    user = OuterRef(user_field)
    return users.annotate(
        has_two_factor=Exists(AuthenticatorApp.objects.filter(user=user, confirmed=True))
        | Exists(WebAuthnCredential.objects.filter(user=user, confirmed=True))
    )


def _record(user, action: str, *, address: str | None, changes: dict | None = None) -> None:
    """In the Activity of every organization the user belongs to: one sign-in opens them all."""
    for membership in memberships_for(user):
        membership.user = user
        record_member_event(
            organization=membership.organization,
            action=action,
            subject=user.get_username(),
            actor=Actor.for_member(membership, address),
            changes=changes,
        )


def _lock(user) -> None:
    """Serialize changes to one user's factors, so two removals at once cannot both skip the last-factor rule."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()


# --- Authenticator apps (TOTP) -------------------------------------------------------------------------------------


def pending_totp_secret(session) -> str:
    """The secret offered on the security page until a code confirms it; the session holds it only encrypted."""
    try:
        return crypto.decrypt(session[PENDING_TOTP_KEY], purpose=TOTP_PURPOSE, ttl=PENDING_TOTP_SECONDS)
    except (KeyError, crypto.InvalidToken):
        secret = base64.b32encode(secrets.token_bytes(20)).decode()
        session[PENDING_TOTP_KEY] = crypto.encrypt(secret, purpose=TOTP_PURPOSE)
        return secret


def totp_uri(secret: str, username: str) -> str:
    """The otpauth:// URI authenticator apps read from the QR code (SHA-1, 6 digits, 30 seconds)."""
    label = quote(f"{TOTP_ISSUER}:{username}")
    query = urlencode({"secret": secret, "issuer": TOTP_ISSUER, "algorithm": "SHA1", "digits": 6, "period": 30})
    return f"otpauth://totp/{label}?{query}"


def qr_code(uri: str) -> str:
    """The QR code as an SVG data: URI, drawn here: the secret is never sent to another service."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


@sensitive_variables()
def _current_step(secret: str, code: str, *, after: int) -> int | None:
    """The time step at which `code` is the secret's code, within one step of now and later than `after`."""
    code = (code or "").strip()
    if not _SIX_DIGITS.match(code):
        return None
    totp = TOTP(base64.b32decode(secret), step=30, digits=6)
    return totp.t() if totp.verify(int(code), tolerance=1, min_t=after + 1) else None


@sensitive_variables()
@transaction.atomic
def add_authenticator_app(*, user, secret: str, code: str, address: str | None) -> list[str] | None:
    """Add the app once `code` is a current code of `secret`; the new recovery codes when it is the first factor."""
    step = _current_step(secret, code, after=-1)
    if step is None:
        raise ValidationError({"code": "That code is not the current one. Enter the 6 digits the app shows now."})
    _lock(user)
    first = not has_second_factor(user)
    # The step of the code just entered is spent: it cannot sign anyone in.
    app = AuthenticatorApp(
        user=user, name="Authenticator app", encrypted_secret=crypto.encrypt(secret, purpose=TOTP_PURPOSE)
    )
    app.last_step = step
    try:
        with transaction.atomic():
            app.save()
    except IntegrityError:
        raise ValidationError("You already have an authenticator app: remove it first to add another.")
    _record(user, MemberEvent.Action.TWO_FACTOR_ADDED, address=address, changes={"factor": "authenticator app"})
    return _new_recovery_codes(user) if first else None


@sensitive_variables()
def check_totp(*, user, code: str) -> bool:
    """Whether `code` is a current code of the user's app not accepted before; accepting it spends its step."""
    app = AuthenticatorApp.objects.filter(user=user, confirmed=True).first()
    if app is None:
        return False
    step = _current_step(crypto.decrypt(app.encrypted_secret, purpose=TOTP_PURPOSE), code, after=app.last_step)
    if step is None:
        return False
    # One conditional UPDATE: of two requests with the same code at once, on any servers, only one moves the step.
    spent = AuthenticatorApp.objects.filter(pk=app.pk, last_step__lt=step).update(
        last_step=step, last_used_at=timezone.now()
    )
    return spent == 1


# --- Recovery codes -------------------------------------------------------------------------------------------------


def _normalized(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _new_recovery_codes(user) -> list[str]:
    """Ten new codes (80 random bits each, `xxxx-xxxx-xxxx-xxxx`) replacing the user's others; stored as hashes."""
    RecoveryCode.objects.filter(user=user).delete()
    codes = [base64.b32encode(secrets.token_bytes(10)).decode().lower() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(RecoveryCode(user=user, code_hash=RecoveryCode.hash_code(c)) for c in codes)
    return ["-".join(code[i : i + 4] for i in range(0, 16, 4)) for code in codes]


@transaction.atomic
def regenerate_recovery_codes(*, user, address: str | None) -> list[str]:
    """New codes; the old ones stop working at once."""
    _lock(user)
    if not has_second_factor(user):
        raise ValidationError("Add an authenticator app or a passkey first: recovery codes stand in for one.")
    codes = _new_recovery_codes(user)
    _record(user, MemberEvent.Action.RECOVERY_CODES_REGENERATED, address=address)
    return codes


def recovery_codes_left(user) -> int:
    return RecoveryCode.objects.filter(user=user, used_at=None).count()


@sensitive_variables()
def use_recovery_code(*, user, code: str, address: str | None) -> bool:
    """Whether `code` is one of the user's unused recovery codes; using it spends it, on every server at once."""
    code = _normalized(code)
    if not _RECOVERY_CODE.match(code):
        return False
    used = RecoveryCode.objects.filter(user=user, code_hash=RecoveryCode.hash_code(code), used_at=None).update(
        used_at=timezone.now()
    )
    if used:
        left = recovery_codes_left(user)
        _record(user, MemberEvent.Action.RECOVERY_CODE_USED, address=address, changes={"left": left})
    return bool(used)


# --- Passkeys (WebAuthn) -------------------------------------------------------------------------------------------


def relying_party_id(request) -> str:
    """The host the request came to, without its port: passkeys belong to the name the portal is reached by."""
    domain, _ = split_domain_port(request.get_host())
    return domain


def passkeys_possible(request) -> bool:
    """Browsers refuse WebAuthn on a bare IP address: the portal must be reached by a host name such as localhost."""
    try:
        ipaddress.ip_address(relying_party_id(request).strip("[]"))
    except ValueError:
        return True
    return False


class _PasskeyHelper(WebAuthnHelper):
    def __init__(self, request, *, name: str = ""):
        super().__init__(request)
        self.name = name

    def get_allowed_origins(self) -> list[str]:
        return [f"{self.request.scheme}://{self.request.get_host()}"]

    def get_generate_authentication_options_kwargs(self, **kwargs) -> dict:
        options = super().get_generate_authentication_options_kwargs(**kwargs)
        options["user_verification"] = UserVerificationRequirement.PREFERRED
        return options

    def create_credential(self, user, response, parsed_credential, original_data):
        credential = super().create_credential(user, response, parsed_credential, original_data)
        credential.name = self.name
        return credential


def passkeys_of(user) -> QuerySet[WebAuthnCredential]:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at", "id")


def passkey_registration_options(request, user) -> dict:
    """The options a browser creates a passkey with; the challenge waits in the session for the answer."""
    options, state = _PasskeyHelper(request).register_begin(user=user)
    request.session[REGISTRATION_STATE_KEY] = state
    return options


def passkey_authentication_options(request, user) -> dict | None:
    """The options a browser signs with one of the user's passkeys (None when they have none)."""
    if not passkeys_of(user).exists():
        return None
    options, state = _PasskeyHelper(request).authenticate_begin(user=user, require_user_verification=False)
    request.session[AUTHENTICATION_STATE_KEY] = state
    return options


_CEREMONY_FAILED = (WebAuthnException, OTPWebAuthnApiError, ValueError, KeyError, TypeError, binascii.Error)


@transaction.atomic
def add_passkey(*, request, user, name: str, credential: str, address: str | None) -> list[str] | None:
    """Keep the passkey the browser created; the new recovery codes when it is the first factor."""
    state = request.session.pop(REGISTRATION_STATE_KEY, None)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the passkey, so that you can tell it from others later."})
    if not state:
        raise ValidationError("This page has expired: add the passkey again.")
    _lock(user)
    first = not has_second_factor(user)
    try:
        with transaction.atomic():
            helper = _PasskeyHelper(request, name=name[:64])
            helper.register_complete(user=user, state=state, data=json.loads(credential))
    except (*_CEREMONY_FAILED, IntegrityError):
        raise ValidationError("The browser's answer could not be verified: add the passkey again.")
    _record(user, MemberEvent.Action.TWO_FACTOR_ADDED, address=address, changes={"factor": f"passkey “{name}”"})
    return _new_recovery_codes(user) if first else None


def check_passkey(*, request, user, credential: str) -> bool:
    """Whether the browser signed this page's challenge with one of the user's passkeys; the challenge is spent."""
    state = request.session.pop(AUTHENTICATION_STATE_KEY, None)
    if not state or not credential:
        return False
    try:
        passkey = _PasskeyHelper(request).authenticate_complete(user=user, state=state, data=json.loads(credential))
    except _CEREMONY_FAILED:
        return False
    return passkey.confirmed


# --- Removing factors ------------------------------------------------------------------------------------------------


@transaction.atomic
def remove_second_factor(*, user, factor, confirmed: bool, address: str | None) -> None:
    """Remove an authenticator app or a passkey of the user's. The last one goes only with `confirmed` (a current
    code, a passkey or the password just checked), and takes the recovery codes with it."""
    _lock(user)
    factors = AuthenticatorApp.objects.filter(user=user).count() + passkeys_of(user).count()
    if factors <= 1 and not confirmed:
        raise ValidationError(
            "This is your last second factor: confirm with your password, a current code or a passkey."
        )
    deleted, _ = type(factor).objects.filter(pk=factor.pk, user=user).delete()
    if not deleted:
        return
    if factors <= 1:
        RecoveryCode.objects.filter(user=user).delete()
    described = "authenticator app" if isinstance(factor, AuthenticatorApp) else f"passkey “{factor.name}”"
    _record(user, MemberEvent.Action.TWO_FACTOR_REMOVED, address=address, changes={"factor": described})


# --- The second step of sign-in -------------------------------------------------------------------------------------


def sign_in(request, user) -> bool:
    """Sign the user in after their password, or, when they have a second factor, wait for it: the session then holds
    only who is to be signed in, until `complete_second_step`. True when signed in now.

    Where the user goes next travels in the second step's URL and form, as on the sign-in page, not in the session:
    it may be an invitation link, whose token no table may hold."""
    if not has_second_factor(user):
        login(request, user)
        return True
    request.session.pop(AUTHENTICATION_STATE_KEY, None)
    request.session[PENDING_SIGN_IN_KEY] = {
        "user": user.pk,
        "backend": getattr(user, "backend", None),
        # A password changed meanwhile ends the wait, as it ends the user's sessions.
        "hash": user.get_session_auth_hash(),
        "until": time.time() + SECOND_STEP_SECONDS,
    }
    return False


def pending_sign_in(request):
    """The user waiting for the second step in this session, or None (none, expired, or the password changed)."""
    pending = request.session.get(PENDING_SIGN_IN_KEY)
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None
    user = get_user_model()._default_manager.filter(pk=pending.get("user"), is_active=True).first()
    if user is None or not constant_time_compare(user.get_session_auth_hash(), pending.get("hash", "")):
        return None
    return user


def complete_second_step(request, user) -> None:
    """Sign the waiting user in, under a new session key."""
    pending = request.session.pop(PENDING_SIGN_IN_KEY)
    request.session.pop(AUTHENTICATION_STATE_KEY, None)
    login(request, user, backend=pending["backend"])


def cancel_second_step(request) -> None:
    request.session.pop(PENDING_SIGN_IN_KEY, None)


# --- The organization's policy --------------------------------------------------------------------------------------


@transaction.atomic
def set_two_factor_policy(*, organization: Organization, required: bool, actor: Actor) -> Organization:
    """Require (or stop requiring) a second factor of every member of the organization."""
    require_admin(actor, organization)
    changed = Organization.objects.filter(pk=organization.pk).exclude(require_two_factor=required)
    if changed.update(require_two_factor=required):
        record_member_event(
            organization=organization,
            action=MemberEvent.Action.TWO_FACTOR_REQUIRED if required else MemberEvent.Action.TWO_FACTOR_NOT_REQUIRED,
            subject=organization.name,
            actor=actor,
        )
    organization.require_two_factor = required
    return organization
