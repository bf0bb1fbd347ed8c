import codecs

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

from applications import strictjson


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, stricter: each key of an object once (applications.strictjson, as at the token endpoint),
    and absurdly deep nesting answered with a 400 instead of a crash."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            return strictjson.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.")
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}")
