from applications import scopes as catalog
from applications.forms import ApplicationForm, NewApplicationForm


def valid(**overrides):
    return {
        "name": "Nightly sync",
        "description": "",
        "scopes": ["read:credentials"],
        "form_token": "t" * 43,
        **overrides,
    }


def test_new_form_normalises_name_description_and_scope_order():
    form = NewApplicationForm(
        valid(name="  Nightly sync  ", description=" Copies. ", scopes=["read:organizations", "read:credentials"])
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == "Nightly sync"
    assert form.cleaned_data["description"] == "Copies."
    assert form.cleaned_data["scopes"] == ["read:credentials", "read:organizations"]


def test_new_form_offers_exactly_the_catalog_grouped_by_resource():
    form = NewApplicationForm()
    # What the form accepts, not only what the page shows: a choice outside the groups would be a hidden scope.
    accepted = [option.data["value"] for option in form["scopes"]]
    assert accepted == list(catalog.SCOPES) and len(accepted) == 8
    groups = form.scope_groups()
    assert [group.resource for group, _ in groups] == ["credentials", "applications", "organizations"]
    # Each accepted scope shown once, in the catalog's order, its checkbox beside its own name.
    shown = [(option.data["value"], scope.name) for _, pairs in groups for option, scope in pairs]
    assert shown == [(name, name) for name in accepted]


def test_an_unbound_new_form_gets_a_fresh_token_each_time():
    first, second = (NewApplicationForm()["form_token"].value() for _ in range(2))
    assert len(first) == 43 and first != second


def test_a_token_that_is_not_url_safe_is_refused():
    form = NewApplicationForm(valid(form_token="<script>" * 6))
    assert not form.is_valid() and "form_token" in form.errors


def test_update_form_has_no_scopes():
    form = ApplicationForm({"name": "Renamed", "description": "", "scopes": ["delete:applications"]})
    assert form.is_valid()
    assert form.cleaned_data == {"name": "Renamed", "description": "", "token_lifetime": None}
