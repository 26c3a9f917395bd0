"""Read and validate request parameters; every failure is a 400 with a sentence."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar
from urllib.parse import parse_qs

from flask import Request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from . import days

# No leading "-": a spreadsheet opening an export would take "-A1-B1" for a formula.
EVENT = re.compile(r"[A-Z0-9_.:/][A-Z0-9_.:/-]{0,63}")
EVENT_RULE = "1 to 64 characters from A-Z 0-9 _ - . : /, not starting with -"
# Long enough to be unguessable when random (a UUID is 36), short enough to keep an id record small.
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")
BLANKS = " \t\r\n"  # what a value may be padded with: around a name, a form field, a CSV header
MISSING: Any = object()
Values = MultiDict | dict[str, Any]  # a form or query string, or a JSON object
Computed = TypeVar("Computed", bound=Callable[..., Any])


def event_name(value: Any, name: str = "e") -> str:
    """Trim and upper-case an event name, then check it against ``EVENT``."""
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string.")
    # Check ASCII before upper(): "ß".upper() is "SS" and "ı".upper() is "I".
    text = value.strip(BLANKS)
    if not text.isascii() or not EVENT.fullmatch(text := text.upper()):
        raise BadRequest(f"'{name}' must be an event name of {EVENT_RULE}.")
    return text


def day(value: Any, name: str = "c") -> date:
    """Parse a yyyyMMdd day given as a string, or as a JSON integer."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string like \"20261127\".")
    try:
        return days.parse(value, name)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def idempotency_key(value: Any, name: str = "id") -> str:
    """Check an idempotency key as sent: no trimming or case folding, since it is compared exactly."""
    if not isinstance(value, str) or not IDEMPOTENCY_KEY.fullmatch(value):
        raise BadRequest(f"'{name}' must be 16 to 64 characters of A-Z a-z 0-9 _ -, such as a UUID.")
    return value


def single(values: Values, name: str) -> Any:
    """The one value of ``name``, ``MISSING`` if absent; repeating it is an error."""
    if not isinstance(values, MultiDict):
        return values.get(name, MISSING)
    found = values.getlist(name)
    if len(found) > 1:
        raise BadRequest(f"Give '{name}' only once.")
    return found[0] if found else MISSING


def only(values: Values, names: tuple[str, ...]) -> None:
    """Refuse a parameter not in ``names``: a misspelt or unsupported one (``days=7``) would be ignored silently."""
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise BadRequest(f"'{unknown[0][:64]}' is not a parameter here; give only {', '.join(names)}.")


def _body(request: Request) -> Values:
    if not request.content_length and not request.data and not request.form:
        return MultiDict()
    mimetype = request.mimetype
    if mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return request.form
    if mimetype == "application/json":
        return _json_object(request.get_data(as_text=True))
    if mimetype in ("text/plain", ""):
        # navigator.sendBeacon sends strings as text/plain: JSON or a query string.
        text = request.get_data(as_text=True)
        if text.lstrip().startswith("{"):
            return _json_object(text)
        return MultiDict([(k, v) for k, vs in parse_qs(text, keep_blank_values=True).items() for v in vs])
    raise UnsupportedMediaType("Send the body as JSON, a form, or text/plain.")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of repeated keys; a repeated query or form parameter is refused, so this is too.
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise BadRequest(f"Give '{key[:64]}' only once.")
        found[key] = value
    return found


def _json_object(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The JSON body must be an object such as {\"e\": \"PAGEVIEW\"}.")
    return data


def increment(request: Request) -> tuple[Any, Any, Any]:
    """The raw ``e``, ``c`` and ``id`` of a request (``MISSING`` if absent), from its query string and body."""
    if request.method != "POST":  # the hot path: a beacon's or a pixel's GET
        return single(request.args, "e"), single(request.args, "c"), single(request.args, "id")
    body = _body(request)
    found = []
    for name in ("e", "c", "id"):
        query, sent = single(request.args, name), single(body, name)
        if query is not MISSING and sent is not MISSING:
            raise BadRequest(f"Give '{name}' only once.")
        found.append(sent if query is MISSING else query)
    return found[0], found[1], found[2]


def event_filter(value: Any) -> set[str] | None:
    """Parse ``e=A,B`` into a set of names; ``None`` means every event."""
    if value is MISSING or not value.strip(BLANKS):
        return None
    return {event_name(part) for part in value.split(",")}


def within_calendar(compute: Computed) -> Computed:
    """Answer 400 when ``compute``'s day arithmetic runs past the calendar (``date`` spans 00010101..99991231)."""

    @functools.wraps(compute)
    def checked(*args: Any, **kwargs: Any) -> Any:
        try:
            return compute(*args, **kwargs)
        except OverflowError:
            raise BadRequest("The range runs past the calendar, which spans 00010101 to 99991231.") from None

    return checked  # type: ignore[return-value]
