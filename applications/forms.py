import secrets

from django import forms
from django.core.validators import RegexValidator

from applications import scopes as catalog
from applications.services import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH

_EXPIRED = "This form is incomplete or has expired: open New Application again."


def new_form_token() -> str:
    return secrets.token_urlsafe(32)


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


class NewApplicationForm(ApplicationForm):
    scopes = forms.MultipleChoiceField(
        choices=[(name, name) for name in catalog.SCOPES],
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Choose at least one scope.",
            "invalid_choice": "Unknown scope: %(value)s.",
        },
    )
    # Spent by the first successful submission; the service refuses a second one with the same token.
    form_token = forms.CharField(
        widget=forms.HiddenInput,
        initial=new_form_token,
        validators=[RegexValidator(r"\A[A-Za-z0-9_-]{32,64}\Z", message=_EXPIRED)],
        error_messages={"required": _EXPIRED},
    )

    def clean_scopes(self):
        return catalog.in_catalog_order(self.cleaned_data["scopes"])

    def scope_groups(self):
        """The scope checkboxes grouped as the catalog groups them, each with its description."""
        options = {option.data["value"]: option for option in self["scopes"]}
        return [
            (group, [(options[scope.name], scope) for scope in group.scopes])
            for group in catalog.CATALOG
        ]
