from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret

from applications import scopes as catalog
from applications.models import Application

NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 1000
# "Last used" is for people; writing it more often than this would cost every request a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _require_admin(membership, organization) -> None:
    # None means a trusted caller (management command); a person must be the organization's admin.
    if membership is not None and (membership.organization_id != organization.pk or not membership.is_admin):
        raise PermissionDenied("Only the organization's admins may change its applications.")


def _clean_name(*, organization, name: str, exclude_pk=None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Enter a name."})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError({"name": f"Use at most {NAME_MAX_LENGTH} characters."})
    taken = Application.objects.filter(organization=organization, name__iexact=name).exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError({"name": "An application with this name already exists in the organization."})
    return name


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError({"description": f"Use at most {DESCRIPTION_MAX_LENGTH} characters."})
    return description


def _clean_scopes(scopes) -> list[str]:
    scopes = list(scopes or [])
    unknown = sorted(set(scopes) - set(catalog.SCOPES))
    if unknown:
        raise ValidationError({"scopes": f"Unknown scope: {', '.join(unknown)}."})
    if not scopes:
        raise ValidationError({"scopes": "Choose at least one scope."})
    return catalog.in_catalog_order(scopes)


class FormAlreadySubmitted(Exception):
    """The one-time form token already created an application; `application` is it, when in this organization."""

    def __init__(self, application: Application | None):
        super().__init__("This form was already submitted.")
        self.application = application


def _refuse_spent_form_token(*, organization, form_token: str) -> None:
    earlier = Application.objects.filter(form_token=form_token).first()
    if earlier is not None:
        raise FormAlreadySubmitted(earlier if earlier.organization_id == organization.pk else None)


@transaction.atomic
def create_application(
    *,
    organization,
    name: str,
    description: str = "",
    scopes,
    created_by=None,
    membership=None,
    form_token: str | None = None,
) -> tuple[Application, str]:
    """Create an Application; the plaintext secret is returned here once and stored only as a hash.

    With `form_token`, a second call with the same token creates nothing and raises FormAlreadySubmitted.
    """
    _require_admin(membership, organization)
    if form_token is not None:
        # Before the name check: a resubmitted form repeats the name it already used.
        _refuse_spent_form_token(organization=organization, form_token=form_token)
    application = Application(
        organization=organization,
        name=_clean_name(organization=organization, name=name),
        description=_clean_description(description),
        scopes=" ".join(_clean_scopes(scopes)),
        created_by=created_by,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        hash_client_secret=True,
        form_token=form_token,
    )
    secret = generate_client_secret()
    # ClientSecretField hashes on save; this is the only copy of the plaintext.
    application.client_secret = secret
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        if form_token is not None:
            # The same form submitted twice at once: the other submission's insert won.
            _refuse_spent_form_token(organization=organization, form_token=form_token)
        # A concurrent create took the name between the check and the insert.
        raise ValidationError({"name": "An application with this name already exists in the organization."})
    return application, secret


def update_application(*, application: Application, membership=None, name=None, description=None) -> Application:
    """Rename or redescribe an application; scopes are fixed at creation and never change."""
    _require_admin(membership, application.organization)
    fields = ["updated"]
    if name is not None:
        application.name = _clean_name(organization=application.organization, name=name, exclude_pk=application.pk)
        fields.append("name")
    if description is not None:
        application.description = _clean_description(description)
        fields.append("description")
    application.save(update_fields=fields)
    return application


@transaction.atomic
def delete_application(*, application: Application, membership=None) -> None:
    """Delete an application; its tokens go with it (cascade), so they fail from the next request on."""
    _require_admin(membership, application.organization)
    application.delete()


def record_use(application: Application) -> None:
    now = timezone.now()
    if application.last_used_at is None or now - application.last_used_at >= LAST_USED_RESOLUTION:
        Application.objects.filter(pk=application.pk).update(last_used_at=now)
        application.last_used_at = now
