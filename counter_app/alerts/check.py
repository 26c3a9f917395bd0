"""One alert check: observe this hour's counts, decide each rule, and send what fires, once a day per rule.

A check reads the store twice, whatever the history: the alert state (one item or two small tables: the marks
and up to :data:`KEPT_DAYS` days of hourly observations) and the counts of today and yesterday.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .. import days
from ..storage import AlertState, Counts
from .rules import Rule

KEPT_DAYS = 29  # the longest history a rule uses (28 days) and today
FORGET_AT_ONCE = 48  # old hours dropped per check: two days' worth, so a check's write stays small


@dataclass(frozen=True)
class Verdict:
    """What a rule says now: firing or not, in words, or ``None`` when it cannot tell yet (and why)."""

    rule: Rule
    firing: bool | None
    text: str


@dataclass(frozen=True)
class Moment:
    """The check's time and what it read."""

    local: datetime
    today: int
    yesterday: int
    counts: Counts
    state: AlertState
    this_hour: dict[str, int]


def hour_key(moment: datetime) -> str:
    """``2026112714``: a local time's day and hour, as observations are keyed."""
    return f"{days.to_int(moment.date())}{moment.hour:02d}"


def observation(rules: list[Rule], counts: dict[str, int]) -> dict[str, int]:
    """Today's counts of the events the rules name: what a check records for its hour."""
    return {event: counts.get(event, 0) for rule in rules for event in rule.events}


def stale(state: AlertState, local: datetime) -> list[str]:
    """Observed hours older than any rule looks back, a bounded number of them."""
    oldest = hour_key(local - timedelta(days=KEPT_DAYS))
    return sorted(hour for hour in state.seen if hour < oldest)[:FORGET_AT_ONCE]


def decide(rule: Rule, now: Moment) -> Verdict:
    """Whether ``rule`` fires at ``now``."""
    return {"below": _below, "above": _against_median, "drop": _against_median, "zero": _zero}[rule.kind](rule, now)


def _at(now: Moment) -> str:
    return now.local.strftime("%H:%M")


def _below(rule: Rule, now: Moment) -> Verdict:
    count = now.counts.get(now.today, {}).get(rule.event, 0)
    if now.local.time() < rule.by:
        return Verdict(rule, False, f"{count} {rule.event} so far; checked from {rule.by:%H:%M}")
    low = count < rule.fewer_than
    return Verdict(rule, low, f"{count} {rule.event} today by {_at(now)}, {'fewer than' if low else 'at least'} "
                              f"{rule.fewer_than}")


def _against_median(rule: Rule, now: Moment) -> Verdict:
    """Today's count at this hour's first check against the same hour of the days before, as checks observed them."""
    if now.local.time() < rule.by:
        return Verdict(rule, False, f"checked from {rule.by:%H:%M}")
    history = []
    for back in range(1, rule.days + 1):
        seen = now.state.seen.get(hour_key(now.local - timedelta(days=back)))
        if seen is not None and rule.event in seen:
            history.append(seen[rule.event])
    if len(history) < rule.min_days:
        return Verdict(rule, None, f"learning: {len(history)} of {rule.min_days} days observed at "
                                   f"{now.local.hour:02d}:00")
    median = statistics.median(history)
    count = now.this_hour.get(rule.event, 0)
    where = f"{count} {rule.event} by {now.local.hour:02d}:00; the median of {len(history)} days is {median:g}"
    if rule.kind == "above":
        return Verdict(rule, count > rule.times * max(median, 1), f"{where}, the limit {rule.times:g}×")
    return Verdict(rule, median > 0 and count < rule.fraction * median, f"{where}, the floor {rule.fraction:.0%}")


def _zero(rule: Rule, now: Moment) -> Verdict:
    """No ``event`` since the first check of the hour ``hours`` ago, while ``busy`` grew by more than ``more_than``."""
    # Real hours, through UTC: aware arithmetic in one zone is wall-clock time, an hour off across a DST change.
    then = (now.local.astimezone(timezone.utc) - timedelta(hours=rule.hours)).astimezone(now.local.tzinfo)
    seen = now.state.seen.get(hour_key(then))
    if seen is None or rule.event not in seen or rule.busy not in seen:
        return Verdict(rule, None, f"no check observed {then:%H}:00, {rule.hours} hours ago")
    then_day = days.to_int(then.date())
    grown = {}
    for event in (rule.event, rule.busy):
        since = now.counts.get(now.today, {}).get(event, 0) - seen[event]
        if then_day == now.yesterday:  # across midnight: the rest of that day, then all of today's
            since += now.counts.get(now.yesterday, {}).get(event, 0)
        grown[event] = max(0, since)
    firing = grown[rule.event] == 0 and grown[rule.busy] > rule.more_than
    return Verdict(rule, firing, f"{grown[rule.event]} {rule.event} and {grown[rule.busy]} {rule.busy} since "
                                 f"{then:%H}:00")


def alert(verdict: Verdict, state: str, period: int, now: datetime, zone: str) -> dict[str, Any]:
    """The message of a rule that fired (or resolved): the generic JSON body; Slack's and Discord's carry ``text``."""
    rule = verdict.rule
    said = "resolved" if state == "resolved" else "firing"
    return {
        "id": f"{rule.name}:{period}:{said}", "rule": rule.name, "kind": rule.kind, "state": said, "period": period,
        "event": rule.event, "rule_text": rule.describe(), "detail": verdict.text, "time": now.isoformat(),
        "zone": zone,
        "text": f"{'Resolved' if said == 'resolved' else 'Alert'}: {rule.name}: {rule.describe()}. "
                f"{verdict.text[:1].upper()}{verdict.text[1:]} ({now:%Y-%m-%d %H:%M} {zone}).",
    }
