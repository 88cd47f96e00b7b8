"""The configured-approver table: who approves whom, written by operators as text (``LOCAL_APPROVERS``).

Used by every provider whose HR system names no approvers (local, TimeTap).
"""

from __future__ import annotations

import json
import re
from typing import Any

from providers.models import Person

SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
DEFAULT = "*"


def parse_approvers(value: Any) -> dict[str, list[str]]:
    """Read ``LOCAL_APPROVERS``: JSON, or ``alice@x.com=bob@x.com,U0BOSS; *=carol@x.com``."""
    if isinstance(value, list):  # a bare list is the default approvers
        return {DEFAULT: _as_list(value)}
    if isinstance(value, dict):
        return {k.strip().lower() if "@" in k else k.strip(): _as_list(v) for k, v in value.items()}
    text = str(value or "").strip()
    if text.startswith(("{", "[")):
        return parse_approvers(_json(text))
    mapping: dict[str, list[str]] = {}
    for entry in filter(None, (e.strip() for e in text.split(";"))):
        who, sep, approvers = entry.partition("=")
        if not sep:  # a bare list is the default approvers
            who, approvers = DEFAULT, who
        mapping.update(parse_approvers({who: approvers}))
    return mapping


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # The decoder's own message names no setting; this one is reported against LOCAL_APPROVERS.
        raise ValueError(f"is not valid JSON ({exc.msg} at character {exc.pos + 1})") from None


def _as_list(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ValueError("approvers must be e-mail addresses or Slack user ids, as text or a list of text")
    approvers = [i.strip().lower() if "@" in i else i.strip() for i in items if i.strip()]
    for approver in approvers:
        if "@" not in approver and not SLACK_USER_ID.match(approver):
            raise ValueError(f"{approver!r} is neither an e-mail address nor a Slack user id (U…)")
    return approvers


def configured(table: dict[str, list[str]], person: Person) -> list[Person]:
    """The people a table names for the person's e-mail or Slack id, else its default; never the person."""
    keys = [k for k in (person.email and person.email.lower(), person.slack_user_id) if k]
    chosen = next((table[k] for k in keys if k in table), table.get(DEFAULT, []))
    own = {person.email and person.email.lower(), person.slack_user_id}
    return [person_for(a) for a in chosen if a not in own]


def person_for(key: str) -> Person:
    """The person an e-mail address or a Slack user id in the table stands for."""
    if SLACK_USER_ID.match(key):
        return Person(id=key, name=key, slack_user_id=key)
    return Person(id=key, name=key.split("@")[0], email=key)
