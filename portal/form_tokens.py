"""One-time form tokens: a create form carries one, and the first successful submission spends it.

A reload or a double click then repeats a spent token, and the service refuses it instead of creating twice.
"""

import secrets

from django import forms
from django.core.validators import RegexValidator
from django.db import IntegrityError, transaction


def new_form_token() -> str:
    return secrets.token_urlsafe(32)


def form_token_field(*, expired: str) -> forms.CharField:
    """The hidden token field; `expired` tells the user which form to open again when it is missing or malformed."""
    return forms.CharField(
        widget=forms.HiddenInput,
        initial=new_form_token,
        validators=[RegexValidator(r"\A[A-Za-z0-9_-]{32,64}\Z", message=expired)],
        error_messages={"required": expired},
    )


class FormAlreadySubmitted(Exception):
    """The one-time form token was already spent; `earlier` is what it created, when in the caller's organization."""

    def __init__(self, earlier):
        super().__init__("This form was already submitted.")
        self.earlier = earlier


def refuse_spent_form_token(model, *, organization, form_token: str, error: type[FormAlreadySubmitted]) -> None:
    """Raise `error` when a row of `model` was already created with this token.

    What it created is named only inside the same organization: another's must not learn it exists.
    """
    earlier = model.objects.filter(form_token=form_token).first()
    if earlier is not None:
        raise error(earlier if earlier.organization_id == organization.pk else None)


def insert_once(row, *, refuse_spent) -> None:
    """Insert `row` (a model instance with `organization` and `form_token`) in a savepoint.

    When the insert breaks a unique constraint and the row carries a token, the same form may have been submitted
    twice at once with the other submission's insert winning: `refuse_spent(organization=…, form_token=…)` then
    raises FormAlreadySubmitted. Any other conflict propagates as the IntegrityError.
    """
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        if row.form_token is not None:
            refuse_spent(organization=row.organization, form_token=row.form_token)
        raise
