"""The API's orjson renderer writes what DRF's would, and RawJSON as given."""

import datetime as dt

from rest_framework.renderers import JSONRenderer as DrfJSONRenderer

from api.renderers import JSONRenderer, RawJSON


def test_the_renderer_matches_drfs_output_and_falls_back_for_what_orjson_would_write_differently():
    plain = {"a": [1, 2.5, None, True, "é"], "b": {"c": "x"}}
    assert JSONRenderer().render(plain) == DrfJSONRenderer().render(plain)
    assert JSONRenderer().render({"d": RawJSON('{"x": 1}')}) == b'{"d":{"x": 1}}'
    moment = {"at": dt.datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=dt.UTC), "big": 2**70}
    assert JSONRenderer().render(moment) == DrfJSONRenderer().render(moment)
    fallback = JSONRenderer().render({"d": RawJSON('{"x": 1}'), "big": 2**70})
    assert fallback == b'{"d":{"x":1},"big":1180591620717411303424}'
    indented = JSONRenderer().render(plain, "application/json; indent=2")
    assert indented == DrfJSONRenderer().render(plain, "application/json; indent=2")
    assert JSONRenderer().render(None) == b""
