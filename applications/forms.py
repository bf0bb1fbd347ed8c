from django import forms
from oauth2_provider.settings import oauth2_settings

from applications import scopes as catalog
from applications.services import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH, token_lifetime_choices
from portal.form_tokens import form_token_field

_EXPIRED = "This form is incomplete or has expired: open New Application again."
_SECRET_FORM_EXPIRED = "This form is incomplete or has expired: open Generate new secret again."


_DURATIONS = {300: "5 minutes", 900: "15 minutes", 3600: "1 hour", 43200: "12 hours", 86400: "24 hours"}
KEEP_CURRENT_FOR_CHOICES = [
    ("0", "Stop it now"),
    ("3600", "1 hour"),
    ("86400", "24 hours"),
    ("604800", "7 days"),
    ("forever", "Until I revoke it"),
]
EXPIRES_IN_DAYS_CHOICES = [
    ("never", "Never"),
    ("30", "30 days"),
    ("90", "90 days"),
    ("180", "180 days"),
    ("365", "365 days"),
]


def _token_lifetime_choices():
    return [(value, _DURATIONS.get(value, f"{value} seconds")) for value in token_lifetime_choices()]


def _int_or_none(value):
    return None if value in ("never", "forever") else int(value)


def _choice_error(field: str) -> dict:
    return {"invalid_choice": f"Choose one of the listed {field}.", "required": f"Choose one of the listed {field}."}


class ExpiresInDaysField(forms.TypedChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            choices=EXPIRES_IN_DAYS_CHOICES,
            coerce=_int_or_none,
            initial="never",
            required=False,
            empty_value=None,
            label="Secret expires after",
            error_messages=_choice_error("expiry periods"),
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
    keep_current_for = forms.TypedChoiceField(
        choices=KEEP_CURRENT_FOR_CHOICES,
        coerce=_int_or_none,
        initial="86400",
        label="Keep the current secret working for",
        help_text="Deployments switch to the new secret meanwhile; tokens it already issued live out their lifetime.",
        error_messages=_choice_error("periods"),
    )
    expires_in_days = ExpiresInDaysField()
    form_token = form_token_field(expired=_SECRET_FORM_EXPIRED)


class RevokeSecretForm(forms.Form):
    revoke_tokens = forms.BooleanField(
        required=False,
        initial=True,
        label="Also revoke every access token issued with this secret",
    )
