import secrets
from math import ceil

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from portal.models import Membership

from portal.throttle import Limit, record_failure, retry_after

PER_USERNAME = Limit("signin-username", "SIGNIN_PER_USERNAME")
PER_ADDRESS = Limit("signin-address", "SIGNIN_PER_ADDRESS")


class SignInForm(AuthenticationForm):
    """Django's sign-in form, locked for a while after repeated failures for a username or address."""

    def clean(self):
        checks = [
            (PER_USERNAME, (self.cleaned_data.get("username") or "").lower()),
            (PER_ADDRESS, self.request.META.get("REMOTE_ADDR", "") if self.request else ""),
        ]
        wait = retry_after(checks)
        if wait:
            raise ValidationError(
                "Too many failed sign-ins. Try again in %(minutes)d minutes.",
                code="locked_out",
                params={"minutes": ceil(wait / 60)},
            )
        try:
            return super().clean()
        except ValidationError:
            record_failure(checks)
            raise


def new_form_token() -> str:
    return secrets.token_urlsafe(32)


_EXPIRED = "This form is incomplete or has expired: open Invite member again."


class InvitationForm(forms.Form):
    email = forms.EmailField(max_length=254, error_messages={"required": "Enter an email address."})
    role = forms.ChoiceField(
        choices=Membership.Role.choices,
        initial=Membership.Role.MEMBER,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose Admin or Member.", "invalid_choice": "Choose Admin or Member."},
    )
    # Spent by the first successful submission; the service refuses a second one with the same token.
    form_token = forms.CharField(
        widget=forms.HiddenInput,
        initial=new_form_token,
        validators=[RegexValidator(r"\A[A-Za-z0-9_-]{32,64}\Z", message=_EXPIRED)],
        error_messages={"required": _EXPIRED},
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        choices=Membership.Role.choices, error_messages={"invalid_choice": "Choose Admin or Member."}
    )

