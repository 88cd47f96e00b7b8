"""The benchmark's workspace: 100 people asking for leave, 20 approvers, two of them for each requester.

Spreading requests over many people keeps each person's App Home the size it would be in a real
company, so a cell measures the ack path rather than the cost of one approver with a thousand
pending requests.
"""

from __future__ import annotations

REQUESTERS = [f"U0R{i:03d}" for i in range(100)]
APPROVERS = [f"U0A{i:02d}" for i in range(20)]


def email(slack_id: str) -> str:
    """Everyone's address is their Slack id, lower-cased, at example.com."""
    return f"{slack_id.lower()}@example.com"


def approvers_of(requester_email: str) -> list[str]:
    """The two approvers' e-mail addresses of a requester."""
    index = int(requester_email[3:6])
    return [email(APPROVERS[index % 20]), email(APPROVERS[(index + 1) % 20])]


def local_approvers() -> str:
    """``LOCAL_APPROVERS`` for the local provider, with the same approvers as :func:`approvers_of`."""
    return "; ".join(f"{email(r)}={','.join(approvers_of(email(r)))}" for r in REQUESTERS)


def slack_users() -> dict[str, tuple[str, str]]:
    """Slack id → (e-mail, real name) of everyone."""
    return {user: (email(user), f"Person {user[2:]}") for user in REQUESTERS + APPROVERS}
