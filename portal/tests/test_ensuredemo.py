from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from portal.models import Membership


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
