from math import ceil
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.actors import Actor, client_address
from portal.decorators import admins_only, member_required, one_time_form
from portal.forms import InvitationForm, RoleForm, SignInForm, password_guesses
from portal.models import Membership
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
    members = list(members_of(organization))
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
                login(request, membership.user)
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
