from collections.abc import Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api import examples
from api.verifiable_credentials import CREDENTIAL_TYPE, CREDENTIALS_CONTEXTS, validate_verifiable_credential
from api.models import Credential
from applications.models import Application
from applications.services import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH
from portal.models import Organization

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
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Credential
        fields = ["id", "verifiableCredential", "visibility", "createdAt"]


class CredentialUpdateSerializer(StrictInputMixin, serializers.ModelSerializer):
    refused_fields = {"verifiableCredential": "A stored credential cannot be changed; only its visibility can."}

    class Meta:
        model = Credential
        fields = ["visibility"]


class ApplicationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    clientId = serializers.CharField(source="client_id", read_only=True)
    scopes = serializers.ListField(source="scope_list", child=serializers.CharField(), read_only=True)
    createdAt = serializers.DateTimeField(source="created", read_only=True)
    lastUsedAt = serializers.DateTimeField(source="last_used_at", read_only=True, allow_null=True)

    class Meta:
        model = Application
        fields = ["id", "name", "description", "clientId", "scopes", "createdAt", "lastUsedAt"]
        read_only_fields = fields


class ApplicationUpdateSerializer(StrictInputMixin, serializers.Serializer):
    refused_fields = {"scopes": "Scopes are fixed when an application is created and cannot be changed."}

    # The service owns the rules (blank, uniqueness), shared with the portal's form.
    name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=NAME_MAX_LENGTH)
    description = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=DESCRIPTION_MAX_LENGTH
    )


class OrganizationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "createdAt"]
        read_only_fields = fields
