from django import forms
from oauth2_provider.settings import oauth2_settings

from applications import scopes as catalog
from applications.issuers import MAX_ISSUER_LENGTH
from applications.lifetimes import EXPIRES_IN_DAYS, KEEP_CURRENT_FOR, token_lifetime_choices, token_lifetime_label
from applications.oauth.assertions import MAX_ASSERTION_LENGTH
from applications.services import (
    AUDIENCE_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    MAX_ALLOWED_NETWORKS,
    NAME_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
)
from portal.form_tokens import form_token_field

_EXPIRED = "This form is incomplete or has expired: open New Application again."
_SECRET_FORM_EXPIRED = "This form is incomplete or has expired: open Generate new secret again."
_KEY_FORM_EXPIRED = "This form is incomplete or has expired: open Generate key pair again."


def _token_lifetime_choices():
    return [(value, token_lifetime_label(value)) for value in token_lifetime_choices()]


def _choice_error(field: str) -> dict:
    return {"invalid_choice": f"Choose one of the listed {field}.", "required": f"Choose one of the listed {field}."}


class PeriodField(forms.TypedChoiceField):
    """A lifetimes.Period as a list of its offered values, its default chosen."""

    def __init__(self, period, *, noun: str, **kwargs):
        super().__init__(
            choices=period.form_choices(),
            coerce=period.parse,
            initial=period.spell(period.default),
            error_messages=_choice_error(noun),
            **kwargs,
        )


class ExpiresInDaysField(PeriodField):
    def __init__(self, label="Secret expires after", **kwargs):
        super().__init__(
            EXPIRES_IN_DAYS,
            noun="expiry periods",
            required=False,
            empty_value=None,
            label=label,
            **kwargs,
        )


class ApplicationForm(forms.Form):
    name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        error_messages={
            "required": "Enter a name.",
            "max_length": f"Use at most {NAME_MAX_LENGTH} characters.",
        },
    )
    description = forms.CharField(
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": f"Use at most {DESCRIPTION_MAX_LENGTH} characters."},
    )
    # Absent from a submitted form means unchanged (update) or the server's default (new).
    token_lifetime = forms.TypedChoiceField(
        choices=_token_lifetime_choices,
        coerce=int,
        required=False,
        empty_value=None,
        label="Access token lifetime",
        help_text="How long each access token lives; a change applies to tokens issued afterwards.",
        error_messages=_choice_error("lifetimes"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["token_lifetime"].initial = oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS


class NewApplicationForm(ApplicationForm):
    scopes = forms.MultipleChoiceField(
        choices=[(name, name) for name in catalog.SCOPES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one scope.",
            "invalid_choice": "Unknown scope: %(value)s.",
        },
    )
    expires_in_days = ExpiresInDaysField()
    # Spent by the first successful submission; the service refuses a second one with the same token.
    form_token = form_token_field(expired=_EXPIRED)

    def clean_scopes(self):
        return catalog.in_catalog_order(self.cleaned_data["scopes"])

    def scope_groups(self):
        """The scope checkboxes grouped as the catalog groups them, each with its description."""
        options = {option.data["value"]: option for option in self["scopes"]}
        return [(group, [(options[scope.name], scope) for scope in group.scopes]) for group in catalog.CATALOG]


class RotateSecretForm(forms.Form):
    keep_current_for = PeriodField(
        KEEP_CURRENT_FOR,
        noun="periods",
        label="Keep the current secret working for",
        help_text="Deployments switch to the new secret meanwhile; tokens it already issued live out their lifetime.",
    )
    expires_in_days = ExpiresInDaysField()
    form_token = form_token_field(expired=_SECRET_FORM_EXPIRED)


class AllowedNetworksForm(forms.Form):
    # The service checks the lines (each an address or a range, at most MAX_ALLOWED_NETWORKS) and names a bad one.
    allowed_networks = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "autocomplete": "off"}),
        label="Addresses and CIDR ranges",
        help_text=f"One IPv4 or IPv6 address or CIDR range a line (such as 198.51.100.0/24), at most "
        f"{MAX_ALLOWED_NETWORKS}. Requests from any other address are refused, with tokens already issued too. "
        "Empty: any address.",
    )

    def clean_allowed_networks(self):
        return self.cleaned_data["allowed_networks"].splitlines()


class RevokeCredentialForm(forms.Form):
    """Revoking a secret, a key or a federated credential: `what` names the kind, `issued` how its tokens came."""

    revoke_tokens = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, what: str, issued: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["revoke_tokens"].label = f"Also revoke every access token issued {issued} this {what}"


class UnechoedTextarea(forms.Textarea):
    """A textarea that never shows what was sent: a private key pasted by mistake is not sent back in the page."""

    def format_value(self, value):
        return None


class AddKeyForm(forms.Form):
    public_key = forms.CharField(
        label="Public key",
        help_text="PEM (-----BEGIN PUBLIC KEY-----) or a JWK JSON object: RSA of 2048 bits or more, EC P-256, or "
        "Ed25519. Never the private key.",
        widget=UnechoedTextarea(attrs={"rows": 8, "spellcheck": "false", "autocomplete": "off"}),
        error_messages={"required": "Paste the public key."},
    )
    expires_in_days = ExpiresInDaysField(label="Key expires after")


class GenerateKeyForm(forms.Form):
    expires_in_days = ExpiresInDaysField(label="Key expires after")
    form_token = form_token_field(expired=_KEY_FORM_EXPIRED)


def _text_field(max_length: int, *, missing: str, **kwargs) -> forms.CharField:
    attrs = {"spellcheck": "false", "autocomplete": "off"}
    return forms.CharField(
        max_length=max_length,
        widget=forms.TextInput(attrs=attrs),
        error_messages={"required": missing, "max_length": f"Use at most {max_length} characters."},
        **kwargs,
    )


class FederatedCredentialForm(forms.Form):
    name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        help_text="For people: which workload this is, such as “Deploy from main”.",
        error_messages={"required": "Enter a name.", "max_length": f"Use at most {NAME_MAX_LENGTH} characters."},
    )
    issuer = _text_field(
        MAX_ISSUER_LENGTH,
        missing="Enter the issuer.",
        help_text="The https URL of the OpenID Connect issuer, exactly as its tokens' iss claim spells it.",
    )
    subject = _text_field(
        SUBJECT_MAX_LENGTH,
        missing="Enter the subject.",
        help_text="The tokens' sub claim, compared exactly: no wildcards.",
    )
    audience = _text_field(
        AUDIENCE_MAX_LENGTH,
        missing="Enter the audience.",
        help_text="The tokens' aud claim must be this or hold it. The workload asks its platform for a token with "
        "this audience.",
    )


class TestTokenForm(forms.Form):
    token = forms.CharField(
        label="Workload token",
        max_length=MAX_ASSERTION_LENGTH,
        help_text="A token the workload's platform issued (a JWT: three base64url parts joined by dots). It is "
        "checked, not kept, and not used up: the workload can still trade it.",
        widget=UnechoedTextarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off"}),
        error_messages={
            "required": "Paste the token.",
            "max_length": f"A token is at most {MAX_ASSERTION_LENGTH} characters.",
        },
    )
