from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret

from applications import scopes as catalog
from applications.audit import record_event
from applications.models import Application, AuditEvent
from portal.actors import Actor, require_manager

NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 1000
# "Last used" is for people; writing it more often than this would cost every request a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


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
    actor: Actor,
    form_token: str | None = None,
) -> tuple[Application, str]:
    """Create an Application; the plaintext secret is returned here once and stored only as a hash.

    With `form_token`, a second call with the same token creates nothing and raises FormAlreadySubmitted.
    """
    require_manager(actor, organization)
    if form_token is not None:
        # Before the name check: a resubmitted form repeats the name it already used.
        _refuse_spent_form_token(organization=organization, form_token=form_token)
    application = Application(
        organization=organization,
        name=_clean_name(organization=organization, name=name),
        description=_clean_description(description),
        scopes=" ".join(_clean_scopes(scopes)),
        created_by=actor.user,
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
    record_event(
        application=application,
        action=AuditEvent.Action.CREATED,
        actor=actor,
        changes={"scopes": [None, application.scopes]},
    )
    return application, secret


@transaction.atomic
def update_application(*, application: Application, actor: Actor, name=None, description=None) -> Application:
    """Rename or redescribe an application; scopes are fixed at creation and never change."""
    require_manager(actor, application.organization)
    new_values = {}
    if name is not None:
        new_values["name"] = _clean_name(organization=application.organization, name=name, exclude_pk=application.pk)
    if description is not None:
        new_values["description"] = _clean_description(description)
    changes = {
        field: [getattr(application, field), value]
        for field, value in new_values.items()
        if getattr(application, field) != value
    }
    if not changes:
        return application
    for field, (_, value) in changes.items():
        setattr(application, field, value)
    application.save(update_fields=[*changes, "updated"])
    record_event(application=application, action=AuditEvent.Action.UPDATED, actor=actor, changes=changes)
    return application


@transaction.atomic
def delete_application(*, application: Application, actor: Actor) -> None:
    """Delete an application; its tokens go with it (cascade), so they fail from the next request on."""
    require_manager(actor, application.organization)
    # Lock the row first: a grant storing a token for it waits (its foreign key needs a share
    # lock on the row) instead of slipping a token in between the cascade's read of the tokens
    # and the delete, which PostgreSQL refuses at commit. The waiting grant then fails as for
    # any deleted client.
    list(Application.objects.select_for_update().filter(pk=application.pk).values_list("pk", flat=True))
    record_event(application=application, action=AuditEvent.Action.DELETED, actor=actor)
    application.delete()


def record_lockout(*, client_id: str, address: str | None) -> None:
    """Audit the moment failed authentications lock an application's client ID out of the token endpoint."""
    application = Application.objects.filter(client_id=client_id).first()
    if application is not None:
        actor = Actor.server("token endpoint", address)
        record_event(application=application, action=AuditEvent.Action.LOCKED_OUT, actor=actor)


def record_use(application: Application) -> None:
    now = timezone.now()
    if application.last_used_at is None or now - application.last_used_at >= LAST_USED_RESOLUTION:
        Application.objects.filter(pk=application.pk).update(last_used_at=now)
        application.last_used_at = now
