import base64
from functools import partial

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.text import slugify
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from applications.downloads import api_variables, render_env, render_postman_environment
from applications.forms import (
    AddKeyForm,
    AllowedNetworksForm,
    ApplicationForm,
    FederatedCredentialForm,
    GenerateKeyForm,
    NewApplicationForm,
    RevokeCredentialForm,
    RotateSecretForm,
    TestTokenForm,
)
from applications.models import Application, PublicKey
from applications.oauth import federated
from applications.oauth.endpoints import token_endpoint
from applications.quickstarts import github_actions_job, key_quickstarts, quickstarts
from applications.scopes import SCOPES
from applications.selectors import (
    applications_for,
    audit_events_for,
    audit_events_for_application,
    expired_secrets_with_valid_tokens,
    expired_with_valid_tokens,
    get_application,
    get_federated_credential,
    get_unrevoked_key,
    get_unrevoked_secret,
    leaked_secrets,
    live_credential_count,
    secret_expiry,
)
from applications.services import (
    MAX_FEDERATED_CREDENTIALS,
    MAX_LIVE_KEYS,
    MAX_LIVE_SECRETS,
    DuplicateFederatedCredential,
    DuplicateKey,
    FederatedCredentialLimitReached,
    KeyLimitReached,
    LastLiveCredential,
    SecretLimitReached,
    add_federated_credential,
    add_key,
    create_application,
    delete_application,
    generate_key,
    revoke_federated_credential,
    revoke_key,
    revoke_secret,
    rotate_secret,
    update_application,
)
from portal.actors import Actor
from portal.decorators import admins_only, member_required, one_time_form
from portal.origin import public_origin
from portal.selectors import member_events_for

# History records a page shows, newest first: an application's own on its view page, the organization's on Activity.
APPLICATION_EVENTS_SHOWN = 50
ACTIVITY_EVENTS_SHOWN = 200


def _administered_application(request, public_id) -> Application:
    """The URL's application, for the pages only admins open: 404 outside the organization, then 403."""
    application = get_application(organization=request.membership.organization, public_id=public_id)
    admins_only(request)
    return application


def _described_scopes(application) -> list[tuple[str, str]]:
    return [(name, SCOPES.get(name, "")) for name in application.scope_list]


def _data_url(content: str, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(content.encode()).decode()}"


@require_GET
@member_required
def list_view(request):
    applications = list(applications_for(request.membership.organization))
    for application in applications:
        application.secret_mark = secret_expiry(application)
    return render(request, "applications/list.html", {"applications": applications})


# The reveal path: no local of this frame or any below it appears in an error report.
@sensitive_variables()
@require_http_methods(["GET", "POST"])
@member_required
@one_time_form(spent_template="applications/already_created.html", spent_name="application")
def create_view(request):
    admins_only(request)
    if request.method == "GET":
        return render(request, "applications/new.html", {"form": NewApplicationForm()})
    return _create(request, NewApplicationForm(request.POST))


# Error reports show no local of these two frames: several of them hold the plaintext secret.
@sensitive_variables()
def _create(request, form):
    if not form.is_valid():
        return render(request, "applications/new.html", {"form": form})
    try:
        # The form's fields are the service's arguments, as the API's serializer's are.
        application, secret = create_application(
            organization=request.membership.organization, actor=Actor.member(request), **form.cleaned_data
        )
    except ValidationError as error:
        form.add_error(None, error)
        return render(request, "applications/new.html", {"form": form})
    return _reveal(request, application, secret)


@sensitive_variables()
def _reveal(request, application, secret, new_secret=None):
    # The plaintext lives only in this response: on the page and inside the two data: links.
    variables = api_variables(
        origin=public_origin(request), organization=application.organization, application=application, secret=secret
    )
    basename = slugify(application.name) or "application"
    postman = render_postman_environment(variables, name=f"{application.name} · {application.organization.name}")
    context = {
        "application": application,
        "secret": secret,
        "token_endpoint": variables["TOKEN_ENDPOINT"],
        "scopes": _described_scopes(application),
        # octet-stream: a text type would let the browser append .txt to the file name.
        "env_href": _data_url(render_env(variables), "application/octet-stream"),
        "env_filename": f"{basename}.env",
        "postman_href": _data_url(postman, "application/json"),
        "postman_filename": f"{basename}.postman_environment.json",
        "quickstarts": quickstarts(),
        # Set when the reveal answers "Generate new secret" rather than creation.
        "new_secret": new_secret,
    }
    return render(request, "applications/reveal.html", context)


@require_http_methods(["GET", "POST"])
@member_required
def detail_view(request, public_id):
    application = get_application(organization=request.membership.organization, public_id=public_id)
    form = None
    if request.method == "POST":
        admins_only(request)
        form = ApplicationForm(request.POST)
        if form.is_valid():
            try:
                update_application(application=application, actor=Actor.member(request), **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Application “{application.name}” updated.")
                return redirect("applications:detail", public_id=application.public_id)
    return _detail(request, application, form=form)


def _detail(request, application, *, form=None, networks_form=None):
    """The view page; a form given is one the admin sent back with errors."""
    if form is None:
        form = ApplicationForm(
            initial={
                "name": application.name,
                "description": application.description,
                "token_lifetime": application.effective_token_lifetime,
            }
        )
    if networks_form is None:
        networks_form = AllowedNetworksForm(initial={"allowed_networks": "\n".join(application.allowed_networks)})
    # An expired secret stays listed while tokens it issued are valid (only revoking it ends them); those rows
    # carry `valid_tokens`, the live ones do not. A secret revoked as leaked stays listed with the report's url.
    secrets = sorted(
        [*application.live_secrets, *expired_secrets_with_valid_tokens(application), *leaked_secrets(application)],
        key=lambda secret: (secret.created_at, secret.pk),
    )
    keys = sorted(
        [*application.live_keys, *expired_with_valid_tokens(PublicKey, application)],
        key=lambda key: (key.created_at, key.pk),
    )
    context = {
        "application": application,
        "form": form,
        "networks_form": networks_form,
        "secrets": secrets,
        "secret_limit_reached": len(application.live_secrets) >= MAX_LIVE_SECRETS,
        "keys": keys,
        "key_limit_reached": len(application.live_keys) >= MAX_LIVE_KEYS,
        "federated_credentials": application.live_federated_credentials,
        "federated_limit_reached": len(application.live_federated_credentials) >= MAX_FEDERATED_CREDENTIALS,
        "scopes": _described_scopes(application),
        "events": audit_events_for_application(application)[:APPLICATION_EVENTS_SHOWN],
    }
    return render(request, "applications/detail.html", context)


@require_POST
@member_required
def networks_view(request, public_id):
    application = _administered_application(request, public_id)
    form = AllowedNetworksForm(request.POST)
    if form.is_valid():
        try:
            update_application(
                application=application,
                actor=Actor.member(request),
                allowed_networks=form.cleaned_data["allowed_networks"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            networks = ", ".join(application.allowed_networks) or "any address"
            messages.success(request, f"Application “{application.name}” now accepts requests from {networks}.")
            return redirect("applications:detail", public_id=application.public_id)
    return _detail(request, application, networks_form=form)


def _suspension(request, public_id, *, suspended: bool):
    application = _administered_application(request, public_id)
    update_application(application=application, actor=Actor.member(request), suspended=suspended)
    if suspended:
        messages.success(
            request,
            f"Application “{application.name}” suspended: its credentials and tokens are refused until it is resumed.",
        )
    else:
        messages.success(request, f"Application “{application.name}” resumed: its credentials and tokens work again.")
    return redirect("applications:detail", public_id=application.public_id)


@require_POST
@member_required
def suspend_view(request, public_id):
    return _suspension(request, public_id, suspended=True)


@require_POST
@member_required
def resume_view(request, public_id):
    return _suspension(request, public_id, suspended=False)


@require_http_methods(["GET", "POST"])
@member_required
def delete_view(request, public_id):
    application = _administered_application(request, public_id)
    if request.method == "POST":
        delete_application(application=application, actor=Actor.member(request))
        messages.success(
            request, f"Application “{application.name}” deleted. Its client credentials and tokens no longer work."
        )
        return redirect("applications:list")
    return render(request, "applications/confirm_delete.html", {"application": application})


@require_http_methods(["GET", "POST"])
@member_required
@one_time_form(spent_template="applications/secret_already_generated.html", spent_name="application")
def rotate_view(request, public_id):
    application = _administered_application(request, public_id)
    if request.method == "GET":
        return _rotate_form(request, application, RotateSecretForm())
    return _rotate(request, application, RotateSecretForm(request.POST))


def _rotate_form(request, application, form, refusal=None):
    if len(application.live_secrets) >= MAX_LIVE_SECRETS:
        # The service's own refusal, said before the admin fills in a form it would refuse.
        refusal = str(SecretLimitReached())
    return render(request, "applications/rotate.html", {"application": application, "form": form, "refusal": refusal})


@sensitive_variables()
def _rotate(request, application, form):
    if not form.is_valid():
        return _rotate_form(request, application, form)
    try:
        row, secret = rotate_secret(application=application, actor=Actor.member(request), **form.cleaned_data)
    except SecretLimitReached as refused:
        return _rotate_form(request, application, form, refusal=str(refused))
    except ValidationError as error:
        form.add_error(None, error)
        return _rotate_form(request, application, form)
    except Application.DoesNotExist:
        raise Http404("The application was deleted.")
    return _reveal(request, application, secret, new_secret=row)


@require_http_methods(["GET", "POST"])
@member_required
def revoke_secret_view(request, public_id, secret_id):
    application = _administered_application(request, public_id)
    # An expired secret too: revoking it ends the tokens it issued.
    secret = get_unrevoked_secret(application=application, public_id=secret_id)
    return _revoke_credential(
        request,
        application,
        secret,
        partial(revoke_secret, secret=secret),
        what="secret",
        issued="with",
        title=f"Secret {secret}",
    )


def _revoke_credential(request, application, credential, revoke, *, what: str, issued: str, title: str):
    """The page that confirms revoking one credential (a secret, a key or a federated credential), and its POST:
    `revoke` is the kind's service bound to it, `what` names the kind, `issued` says how its tokens came ("with",
    "through"), `title` names the credential in the message."""
    expired = not credential.is_live()
    # The service's own refusal, said before the admin confirms.
    refusal = str(LastLiveCredential()) if not expired and live_credential_count(application) <= 1 else None
    form = RevokeCredentialForm(request.POST if request.method == "POST" else None, what=what, issued=issued)
    if request.method == "POST" and form.is_valid():
        revoke_tokens = form.cleaned_data["revoke_tokens"]
        try:
            revoked = revoke(actor=Actor.member(request), revoke_tokens=revoke_tokens)
        except LastLiveCredential as refused:
            refusal = str(refused)
        except ObjectDoesNotExist:
            raise Http404(f"The {what} is revoked already.")
        else:
            if revoke_tokens:
                tokens = f"{revoked} access token{'' if revoked == 1 else 's'} issued {issued} it revoked too"
            else:
                tokens = f"the access tokens issued {issued} it work until they expire"
            messages.success(request, f"{title} revoked: it no longer works; {tokens}.")
            return redirect("applications:detail", public_id=application.public_id)
    context = {
        "application": application,
        "credential": credential,
        "what": what,
        "issued": issued,
        "expired": expired,
        "form": form,
        "refusal": refusal,
    }
    return render(request, f"applications/confirm_revoke_{what.replace(' ', '_')}.html", context)


# What was pasted may be a private key sent by mistake: no error report shows it.
@sensitive_post_parameters("public_key")
@sensitive_variables()
@require_http_methods(["GET", "POST"])
@member_required
def add_key_view(request, public_id):
    application = _administered_application(request, public_id)
    form = AddKeyForm(request.POST if request.method == "POST" else None)
    refusal = str(KeyLimitReached()) if len(application.live_keys) >= MAX_LIVE_KEYS else None
    if request.method == "POST" and form.is_valid():
        try:
            key = add_key(application=application, actor=Actor.member(request), **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        except (KeyLimitReached, DuplicateKey) as refused:
            refusal = str(refused)
        except Application.DoesNotExist:
            raise Http404("The application was deleted.")
        else:
            messages.success(request, f"Key {key.kid} added: assertions signed with its private key now authenticate.")
            return redirect("applications:detail", public_id=application.public_id)
    return render(request, "applications/add_key.html", {"application": application, "form": form, "refusal": refusal})


@sensitive_variables()
@require_http_methods(["GET", "POST"])
@member_required
@one_time_form(spent_template="applications/key_already_generated.html", spent_name="application")
def generate_key_view(request, public_id):
    application = _administered_application(request, public_id)
    form = GenerateKeyForm(request.POST if request.method == "POST" else None)
    refusal = str(KeyLimitReached()) if len(application.live_keys) >= MAX_LIVE_KEYS else None
    if request.method == "POST" and form.is_valid():
        try:
            key, private_pem = generate_key(application=application, actor=Actor.member(request), **form.cleaned_data)
        except KeyLimitReached as refused:
            refusal = str(refused)
        except Application.DoesNotExist:
            raise Http404("The application was deleted.")
        else:
            return _reveal_key(request, application, key, private_pem)
    context = {"application": application, "form": form, "refusal": refusal}
    return render(request, "applications/generate_key.html", context)


@sensitive_variables()
def _reveal_key(request, application, key, private_pem):
    # The private key lives only in this response: on the page and inside the data: link.
    filename = f"{slugify(application.name) or application.public_id}-{key.kid[:8]}.pem"
    context = {
        "application": application,
        "key": key,
        "private_key": private_pem,
        "private_key_href": _data_url(private_pem, "application/octet-stream"),
        "private_key_filename": filename,
        "token_endpoint": token_endpoint(public_origin(request)),
        "quickstarts": key_quickstarts(),
    }
    return render(request, "applications/key_reveal.html", context)


@require_http_methods(["GET", "POST"])
@member_required
def revoke_key_view(request, public_id, key_id):
    application = _administered_application(request, public_id)
    key = get_unrevoked_key(application=application, public_id=key_id)
    return _revoke_credential(
        request, application, key, partial(revoke_key, key=key), what="key", issued="through", title=f"Key {key.kid}"
    )


@require_http_methods(["GET", "POST"])
@member_required
def add_federated_credential_view(request, public_id):
    application = _administered_application(request, public_id)
    origin = public_origin(request)
    # The audience a workload asks its platform for by default: the portal's issuer (contract §7).
    form = FederatedCredentialForm(request.POST if request.method == "POST" else None, initial={"audience": origin})
    refusal = None
    if len(application.live_federated_credentials) >= MAX_FEDERATED_CREDENTIALS:
        refusal = str(FederatedCredentialLimitReached())
    if request.method == "POST" and form.is_valid():
        try:
            credential = add_federated_credential(
                application=application, actor=Actor.member(request), **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        except (FederatedCredentialLimitReached, DuplicateFederatedCredential) as refused:
            refusal = str(refused)
        except Application.DoesNotExist:
            raise Http404("The application was deleted.")
        else:
            messages.success(
                request,
                f"Federated credential {credential} added: tokens its issuer gives {credential.subject} for "
                f"{credential.audience} now get access tokens.",
            )
            return redirect("applications:detail", public_id=application.public_id)
    context = {
        "application": application,
        "form": form,
        "refusal": refusal,
        "origin": origin,
        "token_endpoint": token_endpoint(origin),
        "job": github_actions_job(client_id=application.client_id, origin=origin),
    }
    return render(request, "applications/add_federated_credential.html", context)


@require_http_methods(["GET", "POST"])
@member_required
def revoke_federated_credential_view(request, public_id, credential_id):
    application = _administered_application(request, public_id)
    credential = get_federated_credential(application=application, public_id=credential_id)
    return _revoke_credential(
        request,
        application,
        credential,
        partial(revoke_federated_credential, credential=credential),
        what="federated credential",
        issued="through",
        title=f"Federated credential {credential}",
    )


# The pasted token is a live credential of the workload: no error report shows it, and nothing keeps it.
@sensitive_post_parameters("token")
@sensitive_variables()
@require_http_methods(["GET", "POST"])
@member_required
def test_federated_credential_view(request, public_id, credential_id):
    application = _administered_application(request, public_id)
    credential = get_federated_credential(application=application, public_id=credential_id)
    form = TestTokenForm(request.POST if request.method == "POST" else None)
    findings = None
    if request.method == "POST" and form.is_valid():
        findings = federated.findings(form.cleaned_data["token"], credential, now=timezone.now().timestamp())
    context = {
        "application": application,
        "credential": credential,
        "form": form,
        "findings": findings,
        "accepted": bool(findings) and all(finding.held for finding in findings),
    }
    response = render(request, "applications/test_federated_credential.html", context)
    # The answer repeats what the token claims: no cache keeps it.
    add_never_cache_headers(response)
    return response


@require_GET
@member_required
def activity_view(request):
    organization = request.membership.organization
    # Applications' records and members' records, in one timeline.
    shown = ACTIVITY_EVENTS_SHOWN
    merged = [*audit_events_for(organization)[:shown], *member_events_for(organization)[:shown]]
    events = sorted(merged, key=lambda event: event.created_at, reverse=True)[:shown]
    return render(request, "applications/activity.html", {"events": events})
