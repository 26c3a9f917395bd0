"""The owner's alert rules and webhooks: read from ``COUNTER_ALERTS`` (inline JSON, or a .json or .toml file)."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from werkzeug.exceptions import BadRequest

from .. import params

KINDS = ("below", "above", "drop", "zero")
FORMATS = ("slack", "discord", "json")
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,47}")
CLOCK = re.compile(r"[0-9]{2}:[0-5][0-9]")
MAX_RULES = 20
MAX_EVENTS = 5  # distinct events the rules name: bounds the observations a check keeps, so its reads (docs/alerts.md)
MAX_HISTORY_DAYS = 28


@dataclass(frozen=True)
class Webhook:
    """Where a rule's messages go, and in which body."""

    name: str
    url: str
    format: str


@dataclass(frozen=True)
class Rule:
    """One alert rule; the fields a kind does not use keep their defaults."""

    name: str
    kind: str
    event: str
    to: Webhook
    fewer_than: int = 1  # below
    by: time = time(0)  # below: from this local time; above, drop: the "after"
    times: float = 3.0  # above
    fraction: float = 0.3  # drop
    days: int = MAX_HISTORY_DAYS  # above, drop: the history the median is taken over
    min_days: int = 7  # above, drop: observed days needed before the rule speaks
    hours: int = 6  # zero
    busy: str = ""  # zero: the event that must keep counting ("while")
    more_than: int = 100  # zero
    resolved: bool = False
    events: tuple[str, ...] = field(default=())

    def describe(self) -> str:
        """The rule in words, for the dashboard and ``alerts check``."""
        at = self.by.strftime("%H:%M")
        return {
            "below": f"fewer than {self.fewer_than} {self.event} by {at}",
            "above": f"{self.event} above {self.times:g}× the median of the same hour over {self.days} days"
                     + (f", after {at}" if self.by != time(0) else ""),
            "drop": f"{self.event} below {self.fraction:.0%} of the median of the same hour over {self.days} days"
                    f", after {at}",
            "zero": f"no {self.event} for {self.hours} hours while {self.busy} counted more than {self.more_than}",
        }[self.kind]


def load(setting: Any) -> list[Rule]:
    """The rules of ``COUNTER_ALERTS``: ``None``, a mapping (Flask parsed inline JSON), JSON text, or a file's path.

    :raises ValueError: with one sentence naming the setting and what is wrong.
    """
    if setting is None or setting == "":
        return []
    try:
        return _rules(document(setting))
    except (KeyError, TypeError, ValueError, BadRequest) as exc:
        said = exc.description if isinstance(exc, BadRequest) else (
            f"missing {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc))
        raise ValueError(f"COUNTER_ALERTS: {said}") from None


def document(setting: Any) -> dict[str, Any]:
    """The rules document that ``setting`` holds or names, not yet checked."""
    if isinstance(setting, dict):
        return setting
    text = str(setting).strip()
    if text.startswith("{"):
        return json.loads(text)
    try:
        with open(text, "rb") as file:
            raw = file.read()
    except OSError as exc:
        raise ValueError(f"cannot read {text!r}: {exc.strerror}") from None
    return tomllib.loads(raw.decode()) if text.endswith(".toml") else json.loads(raw)


def _rules(document: dict[str, Any]) -> list[Rule]:
    if not isinstance(document, dict) or set(document) - {"webhooks", "rules"}:
        raise ValueError("the document holds only 'webhooks' and 'rules'")
    hooks = {name: _webhook(name, spec) for name, spec in _mapping(document, "webhooks").items()}
    listed = document.get("rules", [])
    if not isinstance(listed, list) or len(listed) > MAX_RULES:
        raise ValueError(f"'rules' must be a list of at most {MAX_RULES} rules")
    rules = [_rule(spec, hooks) for spec in listed]
    if len({event for rule in rules for event in rule.events}) > MAX_EVENTS:
        raise ValueError(f"the rules may name at most {MAX_EVENTS} distinct events")
    names = [rule.name for rule in rules]
    if len(set(names)) != len(names):
        raise ValueError("two rules have the same name")
    return rules


def _mapping(document: dict[str, Any], key: str) -> dict[str, Any]:
    found = document.get(key, {})
    if not isinstance(found, dict):
        raise ValueError(f"'{key}' must be a table of names")
    return found


def _webhook(name: str, spec: Any) -> Webhook:
    if not isinstance(spec, dict) or not isinstance(spec.get("url"), str) or set(spec) - {"url", "format"}:
        raise ValueError(f"webhook {name!r} needs a 'url' (and may have a 'format')")
    kind = spec.get("format", "slack")
    if kind not in FORMATS:
        raise ValueError(f"webhook {name!r}: 'format' must be one of {', '.join(FORMATS)}")
    if not spec["url"].startswith(("https://", "http://")):
        raise ValueError(f"webhook {name!r}: 'url' must be an https:// address")
    return Webhook(name, spec["url"], kind)


FIELDS = {  # kind: (required, optional) fields besides name, kind, event, to and resolved
    "below": ({"fewer_than", "by"}, set()),
    "above": ({"times"}, {"after", "days", "min_days"}),
    "drop": ({"fraction", "after"}, {"days", "min_days"}),
    "zero": ({"hours", "while", "more_than"}, set()),
}


def _rule(spec: Any, hooks: dict[str, Webhook]) -> Rule:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not NAME.fullmatch(spec["name"]):
        raise ValueError("every rule needs a 'name' of 1 to 48 characters from a-z 0-9 _ -")
    name, kind = spec["name"], spec.get("kind")
    if kind not in KINDS:
        raise ValueError(f"rule {name!r}: 'kind' must be one of {', '.join(KINDS)}")
    required, optional = FIELDS[kind]
    missing = required - set(spec)
    unknown = set(spec) - required - optional - {"name", "kind", "event", "to", "resolved"}
    if missing or unknown:
        raise ValueError(f"rule {name!r}: " + (f"needs {', '.join(sorted(missing))}" if missing
                                                else f"has no field {', '.join(sorted(unknown))}"))
    if not isinstance(spec.get("to"), str) or spec["to"] not in hooks:
        raise ValueError(f"rule {name!r}: 'to' must name one of the webhooks")
    values: dict[str, Any] = {"event": params.event_name(spec.get("event"), "event")}
    for key, kind_of, low, high in (("fewer_than", int, 1, 2**63 - 1), ("times", float, 1.0, 1000.0),
                                    ("fraction", float, 0.0, 1.0), ("days", int, 1, MAX_HISTORY_DAYS),
                                    ("min_days", int, 1, MAX_HISTORY_DAYS), ("hours", int, 1, 23),
                                    ("more_than", int, 0, 2**63 - 1)):
        if key in spec:
            values[key] = _number(name, key, spec[key], kind_of, low, high)
    for key in ("by", "after"):
        if key in spec:
            values["by"] = _clock(name, key, spec[key])
    if "while" in spec:
        values["busy"] = params.event_name(spec["while"], "while")
    if not isinstance(spec.get("resolved", False), bool):
        raise ValueError(f"rule {name!r}: 'resolved' must be true or false")
    if values.get("min_days", 7) > values.get("days", MAX_HISTORY_DAYS):
        raise ValueError(f"rule {name!r}: 'min_days' must not exceed 'days'")
    events = tuple(dict.fromkeys(e for e in (values["event"], values.get("busy")) if e))
    return Rule(name=name, kind=kind, to=hooks[spec["to"]], resolved=spec.get("resolved", False), events=events,
                **values)


def _number(rule: str, key: str, value: Any, kind: type, low: float, high: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise ValueError(f"rule {rule!r}: {key!r} must be a number")
    if not low <= value <= high:
        raise ValueError(f"rule {rule!r}: {key!r} must be from {low:g} to {high:g}")
    return kind(value)


def _clock(rule: str, key: str, value: Any) -> time:
    if isinstance(value, str) and CLOCK.fullmatch(value) and int(value[:2]) < 24:
        return time(int(value[:2]), int(value[3:]))
    raise ValueError(f"rule {rule!r}: {key!r} must be a local time such as \"14:00\"")
