import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    """JSON that is valid Unicode text: "\\ud800" (a lone surrogate) parses in Python but cannot be
    stored, logged as UTF-8 or sent on, so it is refused here, once, for every route."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError("JSON parse error - the text holds an unpaired surrogate (\\ud800-\\udfff).") from None
        return data
