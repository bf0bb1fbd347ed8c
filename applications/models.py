import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from oauth2_provider.models import AbstractApplication
from oauth2_provider.settings import oauth2_settings

from portal.addresses import within
from portal.models import ActivityEvent, Organization


class Application(AbstractApplication):
    """A machine-to-machine client of one organization: confidential, client credentials only."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="applications")
    description = models.TextField(blank=True, max_length=1000)
    # Space-separated, in catalog order; fixed at creation.
    scopes = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    # The one-time token of the portal form that created this row: a resubmitted form finds it
    # here, and the unique constraint settles two submissions racing each other.
    form_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    # Seconds each access token lives; null follows ACCESS_TOKEN_TTL. Read when a token is issued.
    token_lifetime = models.PositiveIntegerField(null=True, blank=True)
    # portal.names.name_digest of the name: look-alike names share it, and the constraint settles two racing creates.
    # Null (not "", which would collide) only for a look-alike of an older name, named before keys (migration 0006).
    name_key = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001
    # Where requests for it may come from (contract §11): addresses and CIDR ranges as portal.addresses.spell
    # writes them; empty, anywhere. Read with the application on every grant and API request.
    allowed_networks = models.JSONField(default=list, blank=True)
    # Suspended, every credential and token of it is refused; nothing is deleted, and resuming restores them.
    suspended = models.BooleanField(default=False)

    class Meta(AbstractApplication.Meta):
        constraints = [
            models.UniqueConstraint("organization", Lower("name"), name="unique_application_name_per_organization"),
            models.UniqueConstraint(fields=["organization", "name_key"], name="unique_application_name_key"),
        ]
        indexes = [models.Index(fields=["organization", "-created"], name="application_org_created")]

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def admits(self, address: str | None) -> bool:
        """Whether a request from `address` may use the application now: it is not suspended, and the address is
        in its allowed networks (any address when it has none). Every credential and every token is checked here."""
        return not self.suspended and (not self.allowed_networks or within(address, self.allowed_networks))

    @property
    def effective_token_lifetime(self) -> int:
        # The server's default is ACCESS_TOKEN_TTL, which settings hand to the toolkit.
        return self.token_lifetime or oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS


class ClientSecret(models.Model):
    """One client secret of an application; an application has one or two live ones.

    The toolkit's own `Application.client_secret` column holds the hash of a value nobody
    keeps, so no code path through it can authenticate: these rows are the client's secrets.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="secrets")
    # The client secret hasher's encoding (salted SHA-256); never the secret.
    secret_hash = models.CharField(max_length=255)
    # The last 4 characters, to tell secrets apart; blank for secrets issued before hints were kept.
    hint = models.CharField(max_length=4, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # The client address of the use that last wrote last_used_at (contract §11).
    last_used_address = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The one-time token of the portal form that generated this secret (as Application.form_token).
    form_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    # How a leak report finds the row, in one indexed query: the unsalted SHA-256 of the secret, as the toolkit keeps
    # of each token (256 random bits leave nothing for a salt to protect), or for a secret issued before this was
    # kept "hint:" and its hint, the checksum's last 4 characters, which a few rows share at most. The salted
    # secret_hash decides either way.
    lookup_key = models.CharField(max_length=64, null=True, blank=True, db_index=True, editable=False)  # noqa: DJ001
    # Set when a leak report revoked the secret: the report's url ("" when it named none).
    leak_url = models.TextField(null=True, blank=True)  # noqa: DJ001

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        # Secrets from before hints were kept are told apart by their date.
        return f"…{self.hint}" if self.hint else f"of {self.created_at:%-d %b %Y}"

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def leak_link(self) -> str | None:
        """The leak report's url when it may be a link on a page (http or https), else None."""
        url = self.leak_url or ""
        return url if url.startswith(("https://", "http://")) else None


class PublicKey(models.Model):
    """One public key of an application (contract §10): a client assertion signed with its private key authenticates.

    Only the public key is ever stored; the private key stays with the client (or was shown once, when generated).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="keys")
    # The RFC 7638 JWK thumbprint (SHA-256, base64url): an assertion's `kid` header names the key by it.
    kid = models.CharField(max_length=43)
    # RS256, ES256 or EdDSA: the key's family (an RSA key also verifies PS256).
    alg = models.CharField(max_length=8)
    # PEM SubjectPublicKeyInfo, as applications.keys writes it whatever was uploaded.
    public_key = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_address = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The one-time token of the "Generate key pair" form that made this key (as Application.form_token).
    form_token = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.kid[:8]

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class FederatedCredential(models.Model):
    """Trust in the tokens an external OpenID Connect issuer gives a workload (contract §10): a token whose `iss`,
    `sub` and `aud` match exactly, signed with a key the issuer publishes, authenticates the application.

    Nothing secret is stored: the issuer signs, and the portal only checks.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="federated_credentials")
    name = models.CharField(max_length=100)
    # An https URL without query or fragment, compared with the token's `iss` character for character.
    issuer = models.CharField(max_length=255)
    # Compared with the token's `sub` character for character: no wildcards.
    subject = models.CharField(max_length=600)
    # The token's `aud` is it, or a list holding it; the portal's issuer (contract §7) unless another was given.
    audience = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_address = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # Settles two identical additions racing each other; the service refuses the second with a message.
            models.UniqueConstraint(
                fields=["application", "issuer", "subject", "audience"],
                condition=models.Q(revoked_at__isnull=True),
                name="unique_live_federated_credential",
            )
        ]

    def __str__(self):
        return f"“{self.name}”"

    def is_live(self, now=None) -> bool:
        # A federated credential never expires: the issuer's tokens do.
        return self.revoked_at is None


class IssuedToken(models.Model):
    """Which credential an access token was issued with (a client secret, a public key or a federated credential), so
    revoking that credential can end exactly its tokens.

    A table beside the toolkit's AccessToken: that model is swappable only before its first migration.
    """

    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="issued_with"
    )
    secret = models.ForeignKey(
        ClientSecret, null=True, blank=True, on_delete=models.CASCADE, related_name="issued_tokens"
    )
    key = models.ForeignKey(PublicKey, null=True, blank=True, on_delete=models.CASCADE, related_name="issued_tokens")
    federated_credential = models.ForeignKey(
        FederatedCredential, null=True, blank=True, on_delete=models.CASCADE, related_name="issued_tokens"
    )

    # The column of each kind of credential: record_issued_token writes the one that authenticated.
    CREDENTIAL_FIELDS = {ClientSecret: "secret", PublicKey: "key", FederatedCredential: "federated_credential"}

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(secret__isnull=False, key__isnull=True, federated_credential__isnull=True)
                | models.Q(secret__isnull=True, key__isnull=False, federated_credential__isnull=True)
                | models.Q(secret__isnull=True, key__isnull=True, federated_credential__isnull=False),
                name="issued_token_one_credential",
            )
        ]

    def __str__(self):
        return f"token {self.access_token_id} issued with {self.credential_label}"

    @property
    def credential_label(self) -> str:
        if self.secret_id:
            return f"secret {self.secret_id}"
        return f"key {self.key_id}" if self.key_id else f"federated credential {self.federated_credential_id}"


class AuditEvent(ActivityEvent):
    """Who did what to an application, when and from where. Outlives the application it names."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        DELETED = "deleted", "Deleted"
        LOCKED_OUT = "locked_out", "Token endpoint locked out"
        SECRET_GENERATED = "secret_generated", "Secret generated"
        SECRET_REVOKED = "secret_revoked", "Secret revoked"
        KEY_ADDED = "key_added", "Key added"
        KEY_GENERATED = "key_generated", "Key pair generated"
        KEY_REVOKED = "key_revoked", "Key revoked"
        SECRET_LEAKED = "secret_leaked", "Secret reported leaked, revoked"
        TOKEN_LEAKED = "token_leaked", "Access token reported leaked, revoked"
        SUSPENDED = "suspended", "Suspended"
        RESUMED = "resumed", "Resumed"
        FEDERATED_ADDED = "federated_credential_added", "Federated credential added"
        FEDERATED_REVOKED = "federated_credential_revoked", "Federated credential revoked"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="audit_events")
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    # Copies, so the record still names the application after it is deleted.
    application_public_id = models.UUIDField()
    application_name = models.CharField(max_length=255)
    action = models.CharField(max_length=32, choices=Action.choices)
    # changes: {"field": [old, new]} for updates; {"secret": hint, "url": …, "tokens_revoked": n} and {"url": …}
    # for a secret and a token a leak report revoked; {"federated_credential": name, "issuer", "subject", "audience"}
    # for a federated credential added, its name and "tokens_revoked" for one revoked.

    class Meta(ActivityEvent.Meta):
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="audit_org_created"),
            models.Index(fields=["application_public_id", "-created_at"], name="audit_application_created"),
        ]

    @staticmethod
    def _change(field: str, old, new) -> str:
        if field == "allowed_networks":
            return f"allowed networks: {', '.join(old) or 'any'} → {', '.join(new) or 'any'}"
        return f"{field}: “{old}” → “{new}”"

    def details(self) -> list[tuple[str, str]]:
        changes, action = self.changes, self.Action
        if self.action == action.UPDATED:
            return [("note", self._change(field, old, new)) for field, (old, new) in changes.items()]
        details = []
        if changes.get("secret"):
            details.append(("code", f"…{changes['secret']}"))
        if changes.get("key"):
            details.append(("code", changes["key"]))
            if changes.get("alg"):
                details.append(("inline", changes["alg"]))
        if changes.get("federated_credential"):
            details.append(("inline", f"“{changes['federated_credential']}”"))
            if changes.get("issuer"):
                details.append(("value", f"issuer {changes['issuer']}, subject {changes['subject']}"))
                details.append(("value", f"audience {changes['audience']}"))
        details += self._tokens_revoked(changes)
        if self.action in (action.SECRET_LEAKED, action.TOKEN_LEAKED):
            url = changes.get("url")
            details.append(("value", f"found at {url}" if url else "the report gave no url"))
        return details

    def __str__(self):
        return f"{self.application_name} {self.action} by {self.actor_label}"


class ExpiryNotice(models.Model):
    """A notice sent to an organization's admins that one of its credentials expires soon: one row per credential
    and threshold (14, 7 or 1 days), so each notice is sent once however often `notifyexpiring` runs."""

    # The kind of credential (applications.expiry.SOURCES), "secret" or "key", and its public id: no foreign key,
    # so that every kind shares the table (a row outlives its credential, harmlessly).
    kind = models.CharField(max_length=16)
    credential = models.UUIDField()
    threshold_days = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "credential", "threshold_days"], name="unique_expiry_notice")
        ]

    def __str__(self):
        return f"{self.kind} {self.credential}: {self.threshold_days}-day notice"
