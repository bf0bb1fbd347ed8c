import pytest

from applications.lifetimes import EXPIRES_IN_DAYS, KEEP_CURRENT_FOR, token_lifetime_choices, token_lifetime_label


@pytest.mark.parametrize("period", [KEEP_CURRENT_FOR, EXPIRES_IN_DAYS], ids=["keep_current_for", "expires_in_days"])
def test_every_offered_value_is_within_the_limits_and_reads_back_as_written(period):
    assert period.default in period.offered
    for value in period.offered:
        assert value is None or period.low <= value <= period.high
        assert period.parse(period.spell(value)) == value


def test_the_words_for_none_are_the_contracts():
    assert KEEP_CURRENT_FOR.parse("forever") is None
    assert EXPIRES_IN_DAYS.parse("never") is None
    with pytest.raises(ValueError):
        KEEP_CURRENT_FOR.parse("never")


def test_the_servers_token_lifetime_is_offered_among_the_contracts_five(settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "ACCESS_TOKEN_EXPIRE_SECONDS": 1800}
    assert token_lifetime_choices() == [300, 900, 1800, 3600, 43200, 86400]
    assert token_lifetime_label(1800) == "1800 seconds"
