"""The admin commands, for when Slack is not the place: list, decide, cancel, audit and export leave.

Each goes through the services the Slack buttons use (authorisation, the outbox, every card and DM);
only who is acting differs: a person named by ``--as EMAIL`` instead of the Slack user who clicked.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Awaitable, Callable
from datetime import date

from bot.config import Settings
from bot.domain import RequestState
from bot.errors import UserError
from bot.services.deps import Deps
from bot.services.requests import Decided
from bot.store.tables import LeaveRequest
from providers.errors import ProviderNotFound
from providers.models import Absence, Decision, Part

Run = Callable[[Settings, argparse.Namespace], Awaitable[int | None]]
Command = Callable[[str, Run, str], argparse.ArgumentParser]
EXPORTED = (
    "booking", "name", "email", "department", "start_date", "start_part", "end_date", "end_part",
    "leave_type", "status",
)  # fmt: skip


def register(command: Command) -> None:
    """Add the admin commands to the `leavebot` parser (``command`` adds one subcommand)."""
    listing = command("requests", list_requests, "list leave requests, newest first")
    listing.add_argument("--pending", action="store_true", help="only those waiting for a decision")
    listing.add_argument("--person", metavar="EMAIL", help="only this requester's")
    for verb, help in (
        ("approve", "approve a pending request as one of its approvers"),
        ("decline", "decline a pending request as one of its approvers"),
        ("cancel", "cancel pending or approved leave as its requester or one of its approvers"),
    ):
        act = command(verb, decide, f"{help}, updating every card and DM as Slack would")
        act.add_argument("id", type=int, help="the request's number (see `leavebot requests`)")
        act.add_argument("--as", dest="email", required=True, help="the e-mail address of who is acting")
        act.add_argument("--reason", default="", help="told to the requester (decline), kept in the audit")
        act.set_defaults(verb=verb)
    audit = command("audit", show_audit, "show a request's audit trail: who did what, and when")
    audit.add_argument("id", type=int, help="the request's number")
    export = command(
        "export", export_absences, "print approved absences in a date range, as the digest sees them"
    )
    export.add_argument("--from", dest="start", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    export.add_argument("--to", dest="end", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    export.add_argument("--csv", action="store_true", help="CSV with a header row")


async def list_requests(settings: Settings, args: argparse.Namespace) -> None:
    """Print one line per request."""
    from bot.runtime import running

    statuses = [RequestState.PENDING] if args.pending else []
    async with running(settings) as services:
        rows = await services.deps.store.requests(statuses=statuses, email=args.person)
    for row in rows:
        print(request_line(row))
    if not rows:
        print("no requests" + (" waiting for a decision" if args.pending else ""))


def request_line(row: LeaveRequest) -> str:
    """'#12 pending  Alice Archer <alice@example.com>  Thu 24 Dec (afternoon)  Annual Leave'."""
    who = f"{row.requester_name} <{row.requester_email}>" if row.requester_email else row.requester_name
    by = f" by {row.decided_by}" if row.decided_by and row.status != RequestState.PENDING else ""
    return f"#{row.id} {row.status}{by}  {who}  {row.span.describe()}  {row.leave_type_name or 'leave'}"


async def decide(settings: Settings, args: argparse.Namespace) -> int:
    """Approve, decline or cancel as ``--as``; exit 1 when there was nothing to do."""
    from bot.runtime import running

    async with running(settings) as services:
        actor = await slack_id(services.deps, args.email, needed=args.verb != "cancel")
        requests = services.requests
        if args.verb == "cancel":
            result = await requests.cancel(
                request_id=args.id, slack_user_id=actor or "", email=args.email, approvers_may=True
            )
        else:
            decision = Decision.APPROVE if args.verb == "approve" else Decision.DECLINE
            assert actor is not None
            result = await requests.decide(
                request_id=args.id, slack_user_id=actor, decision=decision, reason=args.reason
            )
    return _told(result, args.verb)


def _told(result: Decided, verb: str) -> int:
    request = result.request
    if not result.acted:
        print(f"leavebot: nothing to {verb}: request #{request.id} is {request.status}", file=sys.stderr)
        return 1
    if result.queued:
        print(
            f"request #{request.id}: saved; the HR system is not answering, so `leavebot serve` sends "
            "it when it is back"
        )
        return 0
    print(f"request #{request.id}: {request.status}; the cards and the people concerned were updated")
    return 0


async def slack_id(deps: Deps, email: str, *, needed: bool) -> str | None:
    """The Slack user id of whoever ``email`` is (the store's, else Slack's); UserError when ``needed``
    and Slack can't say (approvers are known by their Slack ids)."""
    known = await deps.store.slack_user_by_email(email=email)
    if known is not None:
        return known.slack_user_id
    found = None
    if deps.slack is not None:
        try:
            found = await deps.people.slack_id_for(await deps.provider.find_person(email))
        except ProviderNotFound:
            raise UserError(f"{email} is not known to {deps.provider.display_name}") from None
    if found is None and needed:
        why = "not found in Slack" if deps.slack else "unknown: set SLACK_BOT_TOKEN to find people in Slack"
        raise UserError(f"{email} is {why}, and approvers are known by their Slack ids")
    return found


async def show_audit(settings: Settings, args: argparse.Namespace) -> None:
    """Print the request, then its audit trail, oldest first, with people's names where known."""
    from bot.runtime import running

    async with running(settings) as services:
        store = services.deps.store
        request = await services.deps.request(args.id)
        entries = await store.audit_log(request_id=args.id)
        names = {
            entry.actor: (user.name if (user := await store.slack_user(slack_user_id=entry.actor)) else "")
            for entry in entries
        }
    print(request_line(request))
    for entry in entries:
        who = f"{names[entry.actor]} ({entry.actor})" if names[entry.actor] else entry.actor or "leavebot"
        detail = f": {entry.detail}" if entry.detail else ""
        print(f"  {entry.at:%Y-%m-%d %H:%M:%S}  {who}  {entry.action}{detail}")
    if not entries:
        print("  no audit entries yet")


async def export_absences(settings: Settings, args: argparse.Namespace) -> None:
    """Print the approved absences touching ``--from``..``--to``, one per line or as CSV."""
    from bot.runtime import running

    if args.end < args.start:
        raise UserError(f"--to {args.end} is before --from {args.start}")
    async with running(settings) as services:
        deps = services.deps
        absences = await deps.shown(await deps.approved(args.start, args.end))
    absences.sort(key=lambda a: (a.start_date, a.person.name))
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(EXPORTED)
        writer.writerows(exported(a) for a in absences)
        return
    for absence in absences:
        print(f"{absence.describe()}  {absence.person.name}  {absence.leave_type or 'away'}")
    if not absences:
        print(f"nobody is off from {args.start} to {args.end}")


def exported(absence: Absence) -> list[str]:
    """One CSV row, the columns of ``EXPORTED``; a part is AM or PM (a start in the morning or after
    lunch, an end at lunchtime or the end of the day) or, for hourly leave, HH:MM."""
    person = absence.person
    return [
        absence.id,
        person.name,
        person.email or "",
        person.department or "",
        str(absence.start_date),
        _part(absence.start),
        str(absence.end_date),
        _part(absence.end),
        absence.leave_type or "",
        str(absence.status),
    ]


def _part(part: Part) -> str:
    return f"{part // 60:02d}:{part % 60:02d}" if isinstance(part, int) else part
