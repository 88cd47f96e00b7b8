"""The request modal: what it shows for the part of the day chosen, and its state read back into a draft.

"At a time (hours)" under *Starting* makes the request hourly: the modal then shows the day and the two
time pickers, and no last day or ending (hours are booked on one day). Any other start shows the last day
and the ending, and no time pickers. *Starting* dispatches its choice, so the listener swaps one layout for
the other with ``views.update`` (:func:`updated_modal`) while the modal is open. What reaches a
submission is read by :func:`draft_from_modal`, which refuses anything inconsistent — a time picked for a
day that is not hourly, hours over several days — with a :class:`ModalError` on the field to fix, so
nothing entered is ever silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.views import ids
from bot.views.blocks import Blocks, context, input_block, text
from providers.models import MAX_SPAN_DAYS, Draft, LeaveType, Part, format_minute

CHANGE_HINT = (
    "🔁 This replaces your pending request: the new dates are sent, then the old ones withdrawn. "
    "Your approvers are told."
)
HOURS = "HOURS"
START_PARTS = {"AM": "From the morning", "PM": "From lunchtime", HOURS: "At a time (hours)"}
END_PARTS = {"PM": "To the end of the day", "AM": "To lunchtime"}
HOURS_LABEL = START_PARTS[HOURS]


@dataclass(frozen=True)
class Form:
    """What the request modal holds, as Slack keeps it: nothing validated yet."""

    start_date: str | None = None
    end_date: str | None = None
    start_part: str = "AM"
    end_part: str = "PM"
    start_time: str | None = None
    end_time: str | None = None
    leave_type: str | None = None  # the leave type's id
    reason: str = ""

    @property
    def hourly(self) -> bool:
        """True when the modal asks for hours (the layout with the time pickers)."""
        return self.start_part == HOURS

    @classmethod
    def of(cls, draft: Draft, leave_types: Sequence[LeaveType]) -> Form:
        """The form pre-filled with ``draft`` (the preview's Edit, a Change)."""
        chosen = next((t.id for t in leave_types if t.name == draft.leave_type), None)
        return cls(
            start_date=draft.start_date.isoformat(),
            end_date=draft.end_date.isoformat(),
            start_part=HOURS if draft.is_hourly else str(draft.start),
            end_part="PM" if draft.is_hourly else str(draft.end),
            start_time=format_minute(draft.start) if isinstance(draft.start, int) else None,
            end_time=format_minute(draft.end) if isinstance(draft.end, int) else None,
            leave_type=chosen,
            reason=draft.reason,
        )

    @classmethod
    def read(cls, values: dict[str, dict[str, Any]]) -> Form:
        """The form as a submission (or a dispatched choice) carries it in ``view.state.values``."""

        def value(block_id: str) -> dict[str, Any]:
            return values.get(block_id, {}).get(block_id, {})

        def option(block_id: str) -> str | None:
            return (value(block_id).get("selected_option") or {}).get("value")

        return cls(
            start_date=value(ids.START_DATE).get("selected_date"),
            end_date=value(ids.END_DATE).get("selected_date"),
            start_part=option(ids.START_PART) or "AM",
            end_part=option(ids.END_PART) or "PM",
            start_time=value(ids.START_TIME).get("selected_time"),
            end_time=value(ids.END_TIME).get("selected_time"),
            leave_type=option(ids.LEAVE_TYPE),
            reason=(value(ids.REASON).get("value") or "").strip(),
        )


def request_modal(
    leave_types: Sequence[LeaveType],
    *,
    initial: Draft | None = None,
    today: date,
    replaces: int | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The modal for a new request; ``initial`` pre-fills it (the preview's Edit, or a Change); ``note``
    on top (why there is no type to pick).

    With ``replaces`` (a pending request's id, kept in ``private_metadata``) submitting it changes
    that request: the new one is sent and the old one withdrawn.
    """
    draft = initial or Draft(start_date=today, end_date=today)
    metadata = "" if replaces is None else str(replaces)
    return modal_view(Form.of(draft, leave_types), leave_types, private_metadata=metadata, note=note)


def updated_modal(view: dict[str, Any], leave_types: Sequence[LeaveType]) -> dict[str, Any]:
    """The open modal ``view`` (as a dispatched choice carries it) laid out for the part now chosen."""
    form = Form.read((view.get("state") or {}).get("values") or {})
    note = next((b for b in view.get("blocks") or [] if b.get("block_id") == ids.TYPES_UNKNOWN), None)
    return modal_view(form, leave_types, private_metadata=view.get("private_metadata") or "", note=note)


def modal_view(
    form: Form,
    leave_types: Sequence[LeaveType],
    *,
    private_metadata: str = "",
    note: str | dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The request modal showing what ``form``'s part of the day needs, and nothing it would ignore;
    ``note`` (its text, or the block an open modal showed it in) says why there is no type to pick."""
    changing = bool(private_metadata)
    blocks: Blocks = [context(CHANGE_HINT)] if changing else []
    if note:
        blocks.append(note if isinstance(note, dict) else {**context(note), "block_id": ids.TYPES_UNKNOWN})
    day = {"type": "datepicker", "initial_date": form.start_date}
    starting = input_block(ids.START_PART, "Starting", _select(START_PARTS, form.start_part))
    starting["dispatch_action"] = True  # the layout follows the choice (views.update)
    if form.hourly:
        blocks += [
            input_block(ids.START_DATE, "Day", day),
            starting,
            input_block(ids.START_TIME, "From", _timepicker(form.start_time)),
            input_block(ids.END_TIME, "To", _timepicker(form.end_time)),
        ]
    else:
        last = {"type": "datepicker", "initial_date": form.end_date or form.start_date}
        blocks += [
            input_block(ids.START_DATE, "First day", day),
            starting,
            input_block(ids.END_DATE, "Last day", last),
            input_block(ids.END_PART, "Ending", _select(END_PARTS, form.end_part)),
        ]
    if leave_types:
        choices = {t.id: t.name for t in leave_types[:100]}
        blocks.append(input_block(ids.LEAVE_TYPE, "Type of leave", _select(choices, form.leave_type or "")))
    reason = {"type": "plain_text_input", "max_length": 500, "initial_value": form.reason}
    blocks.append(input_block(ids.REASON, "Reason", reason, optional=True))
    return {
        "type": "modal",
        "callback_id": ids.REQUEST_MODAL,
        "private_metadata": private_metadata,
        "title": text("Change leave" if changing else "Request leave"),
        "submit": text("Change" if changing else "Submit"),
        "close": text("Cancel"),
        "blocks": blocks,
    }


def _select(choices: dict[str, str], initial: str) -> dict[str, Any]:
    options = [{"text": text(label), "value": value} for value, label in choices.items()]
    chosen = next((o for o in options if o["value"] == initial), options[0])
    return {"type": "static_select", "options": options, "initial_option": chosen}


def _timepicker(initial: str | None) -> dict[str, Any]:
    return {"type": "timepicker", "initial_time": initial}


def modal_typeless(view: dict[str, Any]) -> bool:
    """True when the submitted request modal said its types could not be listed (it had no type picker)."""
    return any(block.get("block_id") == ids.TYPES_UNKNOWN for block in view.get("blocks") or [])


class ModalError(ValueError):
    """A modal field is wrong; ``block_id`` says which, for Slack's inline errors."""

    def __init__(self, block_id: str, message: str) -> None:
        super().__init__(message)
        self.block_id = block_id


def draft_from_modal(values: dict[str, dict[str, Any]], leave_types: Sequence[LeaveType]) -> Draft:
    """Read the request modal's state back into a draft, or raise ModalError on the field to fix."""
    form = Form.read(values)
    if not form.start_date:
        raise ModalError(ids.START_DATE, "Pick the first day.")
    start, end = _parts(form)
    first = date.fromisoformat(form.start_date)
    last = first if form.hourly else date.fromisoformat(form.end_date or form.start_date)
    _check_days(form, first, last, start, end)
    return Draft(
        start_date=first,
        end_date=last,
        start=start,
        end=end,
        leave_type=next((t.name for t in leave_types if t.id == form.leave_type), None),
        reason=form.reason,
    )


def _parts(form: Form) -> tuple[Part, Part]:
    """The start and end parts the form asks for; ModalError where its fields disagree."""
    if not form.hourly:
        if form.end_part == HOURS or form.start_time or form.end_time:  # a layout older than the choice
            picked = "–".join(t for t in (form.start_time, form.end_time) if t)
            times = f" ({picked})" if picked else ""
            raise ModalError(ids.START_PART, f"You picked times{times}: choose “{HOURS_LABEL}” to book them.")
        return form.start_part if form.start_part == "PM" else "AM", "AM" if form.end_part == "AM" else "PM"
    if not form.start_time:
        raise ModalError(ids.START_TIME, "Pick the time your leave starts.")
    if not form.end_time:
        raise ModalError(ids.END_TIME, "Pick the time your leave ends.")
    start, end = _minute(form.start_time), _minute(form.end_time)
    if end <= start:
        raise ModalError(ids.END_TIME, f"Pick a time after {form.start_time}.")
    return start, end


def _check_days(form: Form, first: date, last: date, start: Part, end: Part) -> None:
    if form.hourly and form.end_date and form.end_date != form.start_date:  # a last day left from before
        raise ModalError(
            ids.END_DATE,
            f"Hours are booked on one day: make this {first:%a} {first.day} {first:%b} too, "
            f"or choose a whole or half day under Starting.",
        )
    if last < first:
        raise ModalError(ids.END_DATE, "The last day is before the start date: pick a later one.")
    if (last - first).days >= MAX_SPAN_DAYS:
        raise ModalError(ids.END_DATE, f"A request can cover at most {MAX_SPAN_DAYS} days.")
    if first == last and (start, end) == ("PM", "AM"):
        raise ModalError(
            ids.END_PART,
            "Starting from lunchtime, it can't end at lunchtime the same day: pick “To the end of the day”.",
        )


def _minute(value: str) -> int:
    hours, minutes = (int(x) for x in value.split(":"))
    return hours * 60 + minutes
