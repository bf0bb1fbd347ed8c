from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from portal.models import Membership
from portal.tests.factories import PASSWORD


@pytest.mark.django_db
def test_ensuredemo_prints_a_generated_password_only_the_first_time():
    first, second = StringIO(), StringIO()
    call_command("ensuredemo", stdout=first)
    call_command("ensuredemo", stdout=second)
    first, second = first.getvalue(), second.getvalue()

    password = first.split("password: ")[1].split()[0]
    user = get_user_model().objects.get(username="admin")
    assert user.check_password(password)
    assert password not in second
    assert Membership.objects.get(user=user).role == Membership.Role.ADMIN


@pytest.mark.django_db
def test_ensuredemo_refuses_to_make_a_look_alike_of_another_users_name():
    get_user_model().objects.create_user(username="ADMIN", password=PASSWORD)

    with pytest.raises(CommandError, match="A user named 'ADMIN' already exists"):
        call_command("ensuredemo", stdout=StringIO())

    assert list(get_user_model().objects.values_list("username", flat=True)) == ["ADMIN"]
