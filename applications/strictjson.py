"""JSON read strictly wherever the portal reads a body: each key of an object once.

json.loads keeps the last of a repeated key, so {"client_secret": "x", "client_secret": "<right>"} would mean one
thing here and another to a proxy, a log or a scanner that keeps the first; where the same field twice in a form body
is refused, the same key twice in JSON is refused too.
"""

import json


class RepeatedKey(ValueError):
    """A JSON object names one key twice."""


def loads(text: str, **options):
    """json.loads, raising RepeatedKey for an object that repeats a key (and ValueError for anything else amiss)."""
    return json.loads(text, object_pairs_hook=_each_key_once, **options)


def _each_key_once(pairs: list[tuple]) -> dict:
    data = dict(pairs)
    if len(data) != len(pairs):
        raise RepeatedKey("A key is repeated in the JSON body.")
    return data
