from math import ceil
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import twofactor
from portal.actors import Actor, client_address
from portal.decorators import admins_only, member_required, one_time_form
from portal.forms import (
    AuthenticatorAppForm,
    ConfirmIdentityForm,
    InvitationForm,
    PasskeyForm,
    RoleForm,
    SecondStepForm,
    SignInForm,
    TwoFactorPolicyForm,
    password_guesses,
    second_step_guesses,
)
from portal.models import AuthenticatorApp, Membership
from portal.origin import public_origin
from portal.selectors import (
    SESSION_ORGANIZATION_KEY,
    get_member,
    get_pending_invitation,
    invitation_for_token,
    is_member,
    members_of,
    memberships_for,
    pending_invitations_for,
)
from portal.services import (
    AlreadyMember,
    InvitationNotUsable,
    accept_invitation,
    change_role,
    create_account_and_join,
    create_invitation,
    mail_invitation,
    remove_member,
    revoke_invitation,
)
from throttle import limits


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True

    def get_redirect_url(self):
        # `next` naming this very page would send a signed-in user in a loop, which Django
        # answers with a 500: such a `next` is ignored and the default page used instead.
        url = super().get_redirect_url()
        return "" if url and urlsplit(url).path == self.request.path else url

    def form_valid(self, form):
        if twofactor.sign_in(self.request, form.get_user()):
            return HttpResponseRedirect(self.get_success_url())
        return _to_second_step(self.get_redirect_url())


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change; a wrong old password counts as a failed sign-in, and past the limit it is 429."""

    success_url = reverse_lazy("password-change-done")

    def post(self, request, *args, **kwargs):
        attempt = limits.attempt(password_guesses(request.user.get_username(), client_address(request) or ""))
        if attempt.wait:
            return _too_many(request, attempt.wait, what="wrong passwords for your account")
        form = self.get_form()
        try:
            valid = form.is_valid()
        except BaseException:
            attempt.succeeded()  # not a wrong password (the database went away, say)
            raise
        if form.has_error("old_password", "password_incorrect"):
            attempt.failed()
        else:
            attempt.succeeded()  # a weak or mismatched new password is no guess at the old one
        return self.form_valid(form) if valid else self.form_invalid(form)


def home_view(request):
    return redirect("applications:list" if request.user.is_authenticated else "login")


@login_required
@require_POST
def switch_organization_view(request):
    membership = get_object_or_404(memberships_for(request.user), organization__slug=request.POST.get("organization"))
    request.session[SESSION_ORGANIZATION_KEY] = membership.organization_id
    # Back to the list: the page the user was on may belong to the other organization.
    return redirect("applications:list")


# --- Members ------------------------------------------------------------------------------------------------------

INVITATION_PER_ADDRESS = limits.Limit("invitation-address", "INVITATION_PER_ADDRESS")
SIGNUP_PER_ADDRESS = limits.Limit("invitation-signup-address", "INVITATION_SIGNUP_PER_ADDRESS")


def _members_page(request, *, errors=None, status=200):
    organization = request.membership.organization
    members = list(twofactor.with_two_factor(members_of(organization), user_field="user"))
    for member in members:
        # {membership public_id: message} for the row whose change was refused, shown beside it.
        member.error = (errors or {}).get(member.public_id)
    context = {
        "members": members,
        "invitations": pending_invitations_for(organization) if request.membership.is_admin else None,
        "roles": Membership.Role.choices,
    }
    return render(request, "members/list.html", context, status=status)


@require_GET
@member_required
def members_view(request):
    return _members_page(request)


@require_POST
@member_required
def change_role_view(request, public_id):
    membership = get_member(organization=request.membership.organization, public_id=public_id)
    admins_only(request)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _members_page(request, errors={membership.public_id: " ".join(form.errors["role"])})
    try:
        membership = change_role(membership=membership, role=form.cleaned_data["role"], actor=Actor.member(request))
    except ValidationError as error:
        return _members_page(request, errors={membership.public_id: " ".join(error.messages)})
    messages.success(request, f"{membership.user.get_username()} is now {membership.get_role_display().lower()}.")
    return redirect("members:list")


@require_http_methods(["GET", "POST"])
@member_required
def remove_view(request, public_id):
    membership = get_member(organization=request.membership.organization, public_id=public_id)
    admins_only(request)
    error = None
    if request.method == "POST":
        try:
            remove_member(membership=membership, actor=Actor.member(request))
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            messages.success(
                request, f"{membership.user.get_username()} was removed from {membership.organization.name}."
            )
            return redirect("home" if membership.pk == request.membership.pk else "members:list")
    return render(request, "members/confirm_remove.html", {"member": membership, "error": error})


@require_POST
@member_required
def revoke_invitation_view(request, public_id):
    invitation = get_pending_invitation(organization=request.membership.organization, public_id=public_id)
    admins_only(request)
    revoke_invitation(invitation=invitation, actor=Actor.member(request))
    messages.success(request, f"The invitation for {invitation.email} was revoked: its link no longer works.")
    return redirect("members:list")


@require_http_methods(["GET", "POST"])
@member_required
@one_time_form(spent_template="members/already_invited.html", spent_name="invitation")
def invite_view(request):
    admins_only(request)
    if request.method == "GET":
        return _invite_page(request, InvitationForm())
    return _invite(request, InvitationForm(request.POST))


def _invite_page(request, form):
    return render(request, "members/invite.html", {"form": form, "mail_configured": settings.INVITATION_EMAILS})


# Error reports show no local of this frame: the link's token is one of them.
@sensitive_variables()
def _invite(request, form):
    if not form.is_valid():
        return _invite_page(request, form)
    try:
        invitation, token = create_invitation(
            organization=request.membership.organization, actor=Actor.member(request), **form.cleaned_data
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _invite_page(request, form)
    link = public_origin(request) + reverse("invitation", args=[token])
    mailed = mail_invitation(invitation=invitation, link=link)
    context = {"invitation": invitation, "link": link, "mailed": mailed, "mail_configured": settings.INVITATION_EMAILS}
    return render(request, "members/invitation_created.html", context)


INVITATION_FAILURES = "invitation links that did not work or accounts that could not be created"


def _too_many(request, wait: int, *, what: str):
    context = {"minutes": ceil(wait / 60), "what": what}
    response = render(request, "members/too_many.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response


# The page's own URL holds the token: no cache keeps any answer. (The site's Referrer-Policy, same-origin, sends it
# to no other site; "no-referrer" would make the browser send `Origin: null` and fail the form's CSRF check.)
@sensitive_variables()
@require_http_methods(["GET", "POST"])
@never_cache
def invitation_view(request, token):
    address = client_address(request) or ""
    attempt = limits.attempt([(INVITATION_PER_ADDRESS, address)])
    if attempt.wait:
        return _too_many(request, attempt.wait, what=INVITATION_FAILURES)
    invitation = invitation_for_token(token)
    if invitation is None:
        attempt.failed()
        return render(request, "members/invitation_not_found.html", status=404)
    attempt.succeeded()
    if request.user.is_authenticated:
        return _join(request, invitation)
    return _create_account(request, invitation)


def _join(request, invitation):
    if request.method == "POST":
        try:
            membership = accept_invitation(invitation=invitation, user=request.user, address=client_address(request))
        except AlreadyMember:
            pass
        except InvitationNotUsable:
            return render(request, "members/invitation_not_found.html", status=404)
        else:
            return _welcome(request, membership)
    already = is_member(user=request.user, organization=invitation.organization)
    return render(request, "members/invitation.html", {"invitation": invitation, "already_member": already})


def _create_account(request, invitation):
    form = UserCreationForm(instance=get_user_model()(email=invitation.email))
    if request.method == "POST":
        attempt = limits.attempt([(SIGNUP_PER_ADDRESS, client_address(request) or "")])
        if attempt.wait:
            return _too_many(request, attempt.wait, what=INVITATION_FAILURES)
        form = UserCreationForm(request.POST, instance=get_user_model()(email=invitation.email))
        if form.is_valid():
            try:
                membership = create_account_and_join(invitation=invitation, form=form, address=client_address(request))
            except InvitationNotUsable:
                attempt.succeeded()
                return render(request, "members/invitation_not_found.html", status=404)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                attempt.succeeded()
                if not twofactor.sign_in(request, membership.user):
                    return _to_second_step(reverse("members:list"))
                return _welcome(request, membership)
        # The link stays unused: a refused attempt changes nothing but the address's failure count.
        attempt.failed()
    return render(request, "members/invitation.html", {"invitation": invitation, "form": form})


def _welcome(request, membership):
    request.session[SESSION_ORGANIZATION_KEY] = membership.organization_id
    messages.success(
        request, f"Welcome to {membership.organization.name}: you joined as {membership.get_role_display().lower()}."
    )
    return redirect("members:list")


# --- Two-factor sign-in (contract §13) ----------------------------------------------------------------------------


def _security_page(request, *, totp_form=None, passkey_form=None, remove_error=None, status=200):
    user = request.user
    app = AuthenticatorApp.objects.filter(user=user).first()
    passkeys = list(twofactor.passkeys_of(user))
    factors = (app is not None) + len(passkeys)
    context = {
        "app": app,
        "passkeys": passkeys,
        "factors": factors,
        "codes_left": twofactor.recovery_codes_left(user),
        "passkeys_possible": twofactor.passkeys_possible(request),
        "totp_form": totp_form or AuthenticatorAppForm(),
        "passkey_form": passkey_form or PasskeyForm(),
        "confirm_form": ConfirmIdentityForm(),
        "remove_error": remove_error,
    }
    if app is None:
        secret = twofactor.pending_totp_secret(request.session)
        context.update(totp_secret=secret, qr_code=twofactor.qr_code(twofactor.totp_uri(secret, user.get_username())))
    if context["passkeys_possible"]:
        context["registration_options"] = twofactor.passkey_registration_options(request, user)
        if factors == 1 and passkeys:
            context["authentication_options"] = twofactor.passkey_authentication_options(request, user)
    response = render(request, "security/security.html", context, status=status)
    # It shows a secret being set up: no cache keeps it.
    add_never_cache_headers(response)
    return response


def _recovery_codes_page(request, codes, *, first: bool):
    response = render(request, "security/recovery_codes.html", {"codes": codes, "first": first})
    # Shown once: in this response only, never kept by a cache or brought back from the history.
    add_never_cache_headers(response)
    return response


def _factor_added(request, message: str, codes):
    messages.success(request, message)
    if codes is not None:
        return _recovery_codes_page(request, codes, first=True)
    return redirect("account-security")


@require_GET
@login_required
def security_view(request):
    return _security_page(request)


@sensitive_variables()
@sensitive_post_parameters()
@require_POST
@login_required
def add_authenticator_app_view(request):
    form = AuthenticatorAppForm(request.POST)
    if form.is_valid():
        secret = twofactor.pending_totp_secret(request.session)
        try:
            codes = twofactor.add_authenticator_app(
                user=request.user, secret=secret, code=form.cleaned_data["code"], address=client_address(request)
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            request.session.pop(twofactor.PENDING_TOTP_KEY, None)
            return _factor_added(request, "Authenticator app added.", codes)
    return _security_page(request, totp_form=form)


@sensitive_variables()
@require_POST
@login_required
def add_passkey_view(request):
    form = PasskeyForm(request.POST)
    if form.is_valid():
        name = form.cleaned_data["name"]
        try:
            codes = twofactor.add_passkey(
                request=request,
                user=request.user,
                name=name,
                credential=form.cleaned_data["credential"],
                address=client_address(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _factor_added(request, f"Passkey “{name}” added.", codes)
    return _security_page(request, passkey_form=form)


@sensitive_variables()
def _identity_confirmed(request, data) -> bool:
    user, confirmation = request.user, data["confirmation"]
    if confirmation and (twofactor.check_totp(user=user, code=confirmation) or user.check_password(confirmation)):
        return True
    credential = data["credential"]
    return bool(credential) and twofactor.check_passkey(request=request, user=user, credential=credential)


@sensitive_variables()
def _remove_factor(request, factor):
    form = ConfirmIdentityForm(request.POST)
    form.is_valid()
    data = {"confirmation": form.cleaned_data.get("confirmation"), "credential": form.cleaned_data.get("credential")}
    confirmed = False
    if data["confirmation"] or data["credential"]:
        # A wrong password here is a guess at it, as at the password page.
        attempt = limits.attempt(password_guesses(request.user.get_username(), client_address(request) or ""))
        if attempt.wait:
            return _too_many(request, attempt.wait, what="wrong passwords for your account")
        try:
            confirmed = _identity_confirmed(request, data)
        except BaseException:
            attempt.succeeded()
            raise
        attempt.succeeded() if confirmed else attempt.failed()
    try:
        twofactor.remove_second_factor(
            user=request.user, factor=factor, confirmed=confirmed, address=client_address(request)
        )
    except ValidationError as error:
        return _security_page(request, remove_error=" ".join(error.messages), status=400)
    messages.success(request, "Removed.")
    return redirect("account-security")


@sensitive_post_parameters()
@require_POST
@login_required
def remove_authenticator_app_view(request):
    return _remove_factor(request, get_object_or_404(AuthenticatorApp, user=request.user))


@sensitive_post_parameters()
@require_POST
@login_required
def remove_passkey_view(request, pk):
    return _remove_factor(request, get_object_or_404(twofactor.passkeys_of(request.user), pk=pk))


@sensitive_variables()
@require_POST
@login_required
def recovery_codes_view(request):
    try:
        codes = twofactor.regenerate_recovery_codes(user=request.user, address=client_address(request))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("account-security")
    return _recovery_codes_page(request, codes, first=False)


def _to_second_step(next_url: str):
    query = f"?{urlencode({REDIRECT_FIELD_NAME: next_url})}" if next_url else ""
    return HttpResponseRedirect(reverse("second-step") + query)


def _next_after_second_step(request) -> str:
    """Where the sign-in page was told to go: this site's own pages only, as on that page."""
    url = request.POST.get(REDIRECT_FIELD_NAME, request.GET.get(REDIRECT_FIELD_NAME, ""))
    allowed = url_has_allowed_host_and_scheme(url, {request.get_host()}, require_https=request.is_secure())
    return url if allowed and urlsplit(url).path != reverse("second-step") else ""


def _second_step_page(request, user, form, *, error=None, status=200):
    context = {"form": form, "error": error, "pending_user": user, "next": _next_after_second_step(request)}
    if twofactor.passkeys_possible(request):
        context["authentication_options"] = twofactor.passkey_authentication_options(request, user)
    return render(request, "security/second_step.html", context, status=status)


@sensitive_variables()
def _second_factor_given(request, user, data) -> bool:
    code = data["code"].strip()
    if code:
        if len(code) == 6 and code.isdigit():
            return twofactor.check_totp(user=user, code=code)
        return twofactor.use_recovery_code(user=user, code=code, address=client_address(request))
    return twofactor.check_passkey(request=request, user=user, credential=data["credential"])


@sensitive_variables()
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@never_cache
def second_step_view(request):
    user = twofactor.pending_sign_in(request)
    if user is None:
        if twofactor.PENDING_SIGN_IN_KEY in request.session:
            twofactor.cancel_second_step(request)
            messages.info(request, "That sign-in has expired: sign in again.")
        return redirect("login")
    form = SecondStepForm(request.POST if request.method == "POST" else None)
    if not form.is_bound:
        return _second_step_page(request, user, form)
    if not form.is_valid() or not (form.cleaned_data["code"].strip() or form.cleaned_data["credential"]):
        return _second_step_page(request, user, form, error="Enter a code, or use a passkey.")
    attempt = limits.attempt(second_step_guesses(user.pk, client_address(request) or ""))
    if attempt.wait:
        minutes = ceil(attempt.wait / 60)
        error = f"Too many wrong codes for this account. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        response = _second_step_page(request, user, SecondStepForm(), error=error, status=429)
        response["Retry-After"] = str(attempt.wait)
        return response
    try:
        verified = _second_factor_given(request, user, form.cleaned_data)
    except BaseException:
        attempt.succeeded()  # not a wrong code (the database went away, say)
        raise
    if not verified:
        attempt.failed()
        error = "That code or passkey did not work. A code from the app works once; a recovery code too."
        return _second_step_page(request, user, SecondStepForm(), error=error)
    attempt.succeeded()
    next_url = _next_after_second_step(request)
    twofactor.complete_second_step(request, user)
    return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


@require_http_methods(["GET", "POST"])
@member_required
def organization_security_view(request):
    organization = request.membership.organization
    if request.method == "POST":
        admins_only(request)
        form = TwoFactorPolicyForm(request.POST)
        if form.is_valid():
            required = form.cleaned_data["require_two_factor"]
            twofactor.set_two_factor_policy(organization=organization, required=required, actor=Actor.member(request))
            messages.success(request, f"Two-factor sign-in is {'now required' if required else 'no longer required'}.")
            return redirect("organization-security")
    form = TwoFactorPolicyForm(initial={"require_two_factor": organization.require_two_factor})
    members = twofactor.with_two_factor(members_of(organization), user_field="user")
    without = [member for member in members if not member.has_two_factor]
    return render(request, "security/organization.html", {"form": form, "without": without})
