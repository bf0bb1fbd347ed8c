import datetime as dt

import pytest
from django.utils import timezone
from rest_framework import serializers as drf

from api.serializers import DateTimeField


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/St_Johns"])
@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 7, 1, 23, 59, 59, 123456, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=5))),
    ],
)
def test_the_api_writes_a_time_as_drfs_own_field_does(zone, moment):
    with timezone.override(zone):
        assert DateTimeField().to_representation(moment) == drf.DateTimeField().to_representation(moment)
        assert DateTimeField().writer()(moment) == drf.DateTimeField().to_representation(moment)
