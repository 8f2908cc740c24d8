"""The one JSON body parser of the platform API (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] and
every API view's parser_classes).

A body is refused with 400 `invalid_request` before any view code sees it when it is not UTF-8,
not JSON, nested deeper than MAX_DEPTH, carries a lone surrogate (JSON "\\ud800": valid JSON,
but no text a bank can store or print), a duplicate key (which of the two amounts was meant?),
or NaN/Infinity; and with 413 `request_too_large` when it is larger than MAX_BYTES. The error's
details name the problem under "body". Nothing is booked: views parse before calling services."""
import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deeper than any request of the contract (order files: body → orders → order → field is 3).
MAX_DEPTH = 16
DEFAULT_MAX_BYTES = 2_621_440  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE default (2.5 MiB)


def max_bytes() -> int:
    return settings.JIANGUAN.get("API_MAX_BODY_BYTES", DEFAULT_MAX_BYTES)


class BodyRefused(ParseError):
    """A body that is JSON but not acceptable; its message is shown under details.body."""


def _refuse_constant(name):
    raise BodyRefused(_("%(name)s is not a number in this API.") % {"name": name})


def _unique_keys(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise BodyRefused(_("The key “%(key)s” appears twice in one object.") % {"key": _printable(key)})
        out[key] = value
    return out


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")[:40]


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_tree(data, *, max_depth: int = MAX_DEPTH) -> None:
    """Refuse nesting deeper than max_depth and strings (keys included) with lone surrogates.
    Iterative: a tree that json.loads could build is walked without recursion."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _has_surrogate(node):
                raise BodyRefused(_("The body holds a lone surrogate (such as \\ud800): not valid Unicode text."))
            continue
        if not isinstance(node, (dict, list)):
            continue
        if depth > max_depth:
            raise BodyRefused(_("The body is nested deeper than %(depth)d levels.") % {"depth": max_depth})
        if isinstance(node, dict):
            stack.extend((key, depth + 1) for key in node)
            stack.extend((value, depth + 1) for value in node.values())
        else:
            stack.extend((value, depth + 1) for value in node)


def loads(raw: bytes, *, max_depth: int = MAX_DEPTH):
    """bytes → JSON value under the API's rules; BodyRefused / ParseError otherwise."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BodyRefused(_("The body is not UTF-8 (byte %(at)d).") % {"at": err.start}) from None
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_refuse_constant)
    except RecursionError:
        raise BodyRefused(_("The body is nested deeper than %(depth)d levels.") % {"depth": max_depth}) from None
    except json.JSONDecodeError as err:
        raise ParseError(_("The body is not valid JSON: %(problem)s (line %(line)d, column %(col)d).")
                         % {"problem": err.msg, "line": err.lineno, "col": err.colno}) from None
    except ValueError:  # e.g. an integer of more digits than Python converts
        raise ParseError(_("The body is not valid JSON.")) from None
    check_tree(data, max_depth=max_depth)
    return data


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_bytes()
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestDataTooBig(f"JSON body over {limit} bytes")
        if not raw.strip():
            raise ParseError(_("The body is empty; send a JSON object."))
        return loads(raw)
