from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import cached_property

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api import examples
from api.models import Credential
from api.renderers import RawJSON
from api.verifiable_credentials import CREDENTIAL_TYPE, CREDENTIALS_CONTEXTS, validate_verifiable_credential
from applications.lifetimes import EXPIRES_IN_DAYS, KEEP_CURRENT_FOR, token_lifetime_choices
from applications.models import Application, ClientSecret, FederatedCredential, PublicKey
from applications.services import (
    DESCRIPTION_MAX_LENGTH,
    MAX_ALLOWED_NETWORKS,
    NAME_MAX_LENGTH,
    clean_allowed_networks,
)
from portal.models import Organization


class DateTimeField(serializers.DateTimeField):
    """Every time the API writes: ISO 8601 in the current time zone, UTC as "Z" (DRF's default output).

    writer() is to_representation with the time zone looked up once, for a page of rows.
    """

    def writer(self) -> Callable[[datetime], str]:
        zone = self.default_timezone()

        def write(value: datetime) -> str:
            text = value.astimezone(zone).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return write

    def to_representation(self, value):
        return self.writer()(value)


class PlainRows:
    """A serializer's representation of many objects read as plain values, one per source in `sources`.

    The names, their order and each value's output are the serializer's fields'; only the model
    instances and DRF's per-object work are left out. A JSONField's value is the JSON text the
    database holds, embedded as it is.
    """

    def __init__(self, serializer_class, sources: Sequence[str]):
        self.serializer_class = serializer_class
        self.sources = list(sources)

    @cached_property
    def fields(self):
        # On first use: a serializer's fields need the app registry.
        fields = self.serializer_class().fields.items()
        return [(name, self.sources.index(field.source), field) for name, field in fields]

    def __call__(self, rows) -> list[dict]:
        writers = [(name, index, _plain_writer(field)) for name, index, field in self.fields]
        return [
            {name: None if (value := row[index]) is None else write(value) for name, index, write in writers}
            for row in rows
        ]


def _plain_writer(field) -> Callable:
    if isinstance(field, DateTimeField):
        return field.writer()
    if isinstance(field, serializers.JSONField):
        return RawJSON
    return field.to_representation


_STRING_OR_OBJECT_WITH_ID = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "minLength": 1}}},
    ]
}


@extend_schema_field(
    {
        "type": "object",
        "description": "A W3C Verifiable Credential document (VC Data Model 2.0 or 1.1).",
        "required": ["@context", "type", "issuer", "credentialSubject"],
        "properties": {
            "@context": {
                "type": "array",
                "minItems": 1,
                "description": f"Starts with {' or '.join(CREDENTIALS_CONTEXTS)}.",
                "items": {"oneOf": [{"type": "string", "minLength": 1}, {"type": "object"}]},
            },
            "id": {"type": "string", "minLength": 1},
            "type": {
                "description": f"Includes {CREDENTIAL_TYPE}.",
                "oneOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "array", "items": {"type": "string", "minLength": 1}},
                ],
            },
            "issuer": _STRING_OR_OBJECT_WITH_ID,
            "credentialSubject": {
                "oneOf": [{"type": "object"}, {"type": "array", "minItems": 1, "items": {"type": "object"}}]
            },
        },
        "additionalProperties": True,
        "example": examples.VERIFIABLE_CREDENTIAL,
    }
)
class VerifiableCredentialField(serializers.JSONField):
    def __init__(self, **kwargs):
        super().__init__(validators=[validate_verifiable_credential], **kwargs)


# Refuses fields a request may not set instead of silently ignoring them.
class StrictInputMixin:
    refused_fields: dict[str, str] = {}

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            errors = {
                name: [self.refused_fields.get(name, "This field cannot be set.")]
                for name in data
                if name not in writable
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class CredentialSerializer(StrictInputMixin, serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    verifiableCredential = VerifiableCredentialField(source="document")
    createdAt = DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Credential
        fields = ["id", "verifiableCredential", "visibility", "createdAt"]


class CredentialUpdateSerializer(StrictInputMixin, serializers.ModelSerializer):
    refused_fields = {"verifiableCredential": "A stored credential cannot be changed; only its visibility can."}

    class Meta:
        model = Credential
        fields = ["visibility"]


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "example": "198.51.100.0/24"},
        "maxItems": MAX_ALLOWED_NETWORKS,
        "description": "IPv4 or IPv6 addresses and CIDR ranges requests for the application may come from; empty: "
        "any address.",
    }
)
class AllowedNetworksField(serializers.Field):
    """A list of strings, each checked by the service's own rule, so the API names a bad entry as the form does."""

    def to_internal_value(self, data):
        if not isinstance(data, list) or not all(isinstance(entry, str) for entry in data):
            raise serializers.ValidationError("Give a list of IP addresses and CIDR ranges, each a string.")
        try:
            return clean_allowed_networks(data)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages)

    def to_representation(self, value):
        return list(value)


class ApplicationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    clientId = serializers.CharField(source="client_id", read_only=True)
    scopes = serializers.ListField(source="scope_list", child=serializers.CharField(), read_only=True)
    createdAt = DateTimeField(source="created", read_only=True)
    lastUsedAt = DateTimeField(source="last_used_at", read_only=True, allow_null=True)

    class Meta:
        model = Application
        fields = ["id", "name", "description", "clientId", "scopes", "createdAt", "lastUsedAt"]
        read_only_fields = fields


def last_used_address() -> serializers.IPAddressField:
    # Every kind of credential shows where it was last used from (contract §11).
    return serializers.IPAddressField(
        source="last_used_address",
        read_only=True,
        allow_null=True,
        help_text="The client address of the use that last set lastUsedAt.",
    )


class SecretSerializer(serializers.ModelSerializer):
    """A live client secret as the API shows it: never the secret or its hash."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    hint = serializers.SerializerMethodField(
        help_text="The secret's last 4 characters; null for secrets issued before hints were kept."
    )
    createdAt = DateTimeField(source="created_at", read_only=True)
    expiresAt = DateTimeField(source="expires_at", read_only=True, allow_null=True)
    lastUsedAt = DateTimeField(source="last_used_at", read_only=True, allow_null=True)
    lastUsedAddress = last_used_address()

    class Meta:
        model = ClientSecret
        fields = ["id", "hint", "createdAt", "expiresAt", "lastUsedAt", "lastUsedAddress"]
        read_only_fields = fields

    def get_hint(self, secret) -> str | None:
        return secret.hint or None


class KeySerializer(serializers.ModelSerializer):
    """A live public key as the API shows it (contract §10)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    kid = serializers.CharField(read_only=True, help_text="The key's RFC 7638 JWK thumbprint (SHA-256, base64url).")
    alg = serializers.CharField(read_only=True, help_text="RS256 (which also verifies PS256), ES256 or EdDSA.")
    createdAt = DateTimeField(source="created_at", read_only=True)
    expiresAt = DateTimeField(source="expires_at", read_only=True, allow_null=True)
    lastUsedAt = DateTimeField(source="last_used_at", read_only=True, allow_null=True)
    lastUsedAddress = last_used_address()

    class Meta:
        model = PublicKey
        fields = ["id", "kid", "alg", "createdAt", "expiresAt", "lastUsedAt", "lastUsedAddress"]
        read_only_fields = fields


class FederatedCredentialSerializer(serializers.ModelSerializer):
    """A live federated credential as the API shows it (contract §10)."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    name = serializers.CharField(read_only=True)
    issuer = serializers.CharField(read_only=True, help_text="The https URL the tokens' iss must equal.")
    subject = serializers.CharField(read_only=True, help_text="What the tokens' sub must equal, exactly.")
    audience = serializers.CharField(read_only=True, help_text="What the tokens' aud must be or hold.")
    createdAt = DateTimeField(source="created_at", read_only=True)
    lastUsedAt = DateTimeField(source="last_used_at", read_only=True, allow_null=True)
    lastUsedAddress = last_used_address()

    class Meta:
        model = FederatedCredential
        fields = ["id", "name", "issuer", "subject", "audience", "createdAt", "lastUsedAt", "lastUsedAddress"]
        read_only_fields = fields


class ApplicationDetailSerializer(ApplicationSerializer):
    """One application: the list's fields, its token lifetime, allowed networks, suspension, and its live secrets,
    public keys and federated credentials."""

    tokenLifetime = serializers.IntegerField(source="effective_token_lifetime", read_only=True)
    allowedNetworks = AllowedNetworksField(source="allowed_networks", read_only=True)
    suspended = serializers.BooleanField(read_only=True)
    secrets = SecretSerializer(source="live_secrets", many=True, read_only=True)
    keys = KeySerializer(source="live_keys", many=True, read_only=True)
    federatedCredentials = FederatedCredentialSerializer(source="live_federated_credentials", many=True, read_only=True)

    class Meta(ApplicationSerializer.Meta):
        fields = [
            *ApplicationSerializer.Meta.fields,
            "tokenLifetime",
            "allowedNetworks",
            "suspended",
            "secrets",
            "keys",
            "federatedCredentials",
        ]
        read_only_fields = fields


class ApplicationUpdateSerializer(StrictInputMixin, serializers.Serializer):
    refused_fields = {"scopes": "Scopes are fixed when an application is created and cannot be changed."}

    # The service owns the rules (blank, uniqueness), shared with the portal's form.
    name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=NAME_MAX_LENGTH)
    description = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=DESCRIPTION_MAX_LENGTH
    )
    tokenLifetime = serializers.ChoiceField(
        source="token_lifetime",
        choices=token_lifetime_choices(),
        required=False,
        help_text="Seconds each access token issued from now on lives.",
    )

    allowedNetworks = AllowedNetworksField(
        source="allowed_networks",
        required=False,
        help_text=f"The addresses and CIDR ranges requests may come from (at most {MAX_ALLOWED_NETWORKS}); [] for "
        "any. From the next request on, tokens already issued included.",
    )
    suspended = serializers.BooleanField(
        required=False,
        help_text="true: every credential and token of the application is refused until it is resumed (false); "
        "nothing is deleted. An application may not suspend itself.",
    )

    def validate_tokenLifetime(self, value):
        # ChoiceField takes "3600" and 3600 alike; only a JSON integer is a number of seconds.
        if type(self.initial_data.get("tokenLifetime")) is not int:
            raise serializers.ValidationError("Give a number of seconds.")
        return value

    def validate_suspended(self, value):
        # BooleanField takes "true", 1 and "on" too; only a JSON boolean says it.
        if type(self.initial_data.get("suspended")) is not bool:
            raise serializers.ValidationError("Give true or false.")
        return value


def _period(source: str, period, *, help_text: str):
    """A lifetimes.Period: a whole number in its limits, or null for until revoked; its default when left out."""
    return serializers.IntegerField(
        source=source,
        min_value=period.low,
        max_value=period.high,
        allow_null=True,
        required=False,
        default=period.default,
        help_text=help_text,
    )


class SecretCreateSerializer(StrictInputMixin, serializers.Serializer):
    keepCurrentFor = _period(
        "keep_current_for",
        KEEP_CURRENT_FOR,
        help_text="Seconds the current live secret keeps working (0: it stops now; null: until revoked).",
    )
    expiresInDays = _period(
        "expires_in_days", EXPIRES_IN_DAYS, help_text="Days the new secret lives (null: until revoked)."
    )

    def to_internal_value(self, data):
        # IntegerField also takes "60" and 60.0; the contract's fields are JSON integers or null.
        if isinstance(data, Mapping):
            errors = {
                name: ["Give an integer or null."]
                for name in ("keepCurrentFor", "expiresInDays")
                if name in data and data[name] is not None and (type(data[name]) is not int)
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "description": "A PEM SubjectPublicKeyInfo (-----BEGIN PUBLIC KEY-----)."},
            {
                "type": "object",
                "description": "A public JWK: RSA, EC P-256 or OKP Ed25519.",
                "additionalProperties": True,
            },
        ]
    }
)
class PublicKeyField(serializers.Field):
    """A PEM string or a JWK object, handed to the service as it came: the service reads and checks it."""

    def to_internal_value(self, data):
        if not isinstance(data, str | dict):
            raise serializers.ValidationError("Give a PEM public key as a string, or a JWK object.")
        return data


class KeyCreateSerializer(StrictInputMixin, serializers.Serializer):
    publicKey = PublicKeyField(source="public_key")
    expiresInDays = _period("expires_in_days", EXPIRES_IN_DAYS, help_text="Days the key lives (null: until revoked).")

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            value = data.get("expiresInDays")
            if value is not None and type(value) is not int:
                raise serializers.ValidationError({"expiresInDays": ["Give an integer or null."]})
        return super().to_internal_value(data)


class FederatedCredentialCreateSerializer(StrictInputMixin, serializers.Serializer):
    # The service owns the rules (an https issuer it can read, lengths, no wildcard), shared with the portal's form.
    name = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text="For people: which workload.")
    issuer = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text="The https URL of the OpenID Connect issuer, as its tokens' iss spells it; its discovery document "
        "and keys are read when the credential is added.",
    )
    subject = serializers.CharField(
        allow_blank=True, trim_whitespace=False, help_text="What the tokens' sub must equal: compared exactly."
    )
    audience = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        required=False,
        help_text="What the tokens' aud must be or hold; by default the portal's issuer "
        "(/.well-known/oauth-authorization-server).",
    )

    def to_internal_value(self, data):
        # CharField also takes 42 and 4.2; the contract's fields are JSON strings.
        if isinstance(data, Mapping):
            errors = {
                name: ["Give a string."]
                for name in ("name", "issuer", "subject", "audience")
                if name in data and data[name] is not None and not isinstance(data[name], str)
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class NewSecretSerializer(serializers.ModelSerializer):
    """The answer to generating a secret: the only time the API shows one."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    clientSecret = serializers.CharField(read_only=True)
    hint = serializers.CharField(read_only=True)
    createdAt = DateTimeField(source="created_at", read_only=True)
    expiresAt = DateTimeField(source="expires_at", read_only=True, allow_null=True)

    class Meta:
        model = ClientSecret
        fields = ["id", "clientSecret", "hint", "createdAt", "expiresAt"]
        read_only_fields = fields


class OrganizationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    createdAt = DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "createdAt"]
        read_only_fields = fields
