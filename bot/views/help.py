"""What `/leave help` says, the subcommands `/leave` takes, and the one to suggest for a near miss ("cancle").

``SUBCOMMANDS`` is the one list: `/leave help`, manifest.yml's usage hint and the README name each of them
(tests/test_help.py checks that they agree).
"""

from __future__ import annotations

import difflib

SUBCOMMANDS = ("who", "mine", "cancel", "balance", "delegate", "help")
# What people type for a subcommand, besides its name: a near miss of these ("whose off") suggests it. Typed
# right, a question ("who's off friday?") is answered at once (bot/listeners/commands.py asking_who).
PHRASES = {name: name for name in SUBCOMMANDS} | {
    "whos off": "who",
    "who's off": "who",
    "whos out": "who",
    "who's out": "who",
}
NEAR = 0.75  # difflib's ratio: "mien"/"mine" and "hlep"/"help" are 0.75, "cancle"/"cancel" 0.83

HELP = """*leavebot* books your leave and asks your approver for you.
• `/leave` opens a form.
• Or just type it: `/leave tomorrow`, `/leave next friday afternoon for the dentist`, `/leave Dec 24 - Jan 2`, `/leave 3 days from monday`, `/leave sick today`, `/leave tue 9am-12pm` — I'll show you what I understood before anything is sent.
• `/leave who` (or `who tomorrow`, `who next week`, `who @someone`) shows who is off.
• `/leave mine` lists your upcoming leave, each with a Cancel button.
• `/leave cancel friday` (a day, some days, or `#12`, a request's number) shows that leave with its Cancel button.
• `/leave balance` says how much leave you have left, where the HR system keeps balances.
• Approvers: `/leave delegate @someone until Dec 24` sends your approval cards to them (`/leave delegate off` to stop).
• `/leave help` shows this.
• Your leave, your balance and what waits for your approval are on my *Home* tab.
Add `am`/`morning` or `pm`/`afternoon` for half days, a leave type (`sick`, `holiday`) and `for <reason>`."""


def near_miss(text: str) -> str | None:
    """The command ``text`` was probably meant to be ('cancle friday' → '/leave cancel friday'), or None.

    Only the first word or two are compared (the rest is what the subcommand takes); call it only for
    text that does not read as a request, so a day like "monday" is never taken for "mine".
    """
    words = text.split()
    for count in (2, 1):
        head = " ".join(words[:count]).lower()
        if len(words) < count or head in SUBCOMMANDS:
            continue
        close = difflib.get_close_matches(head, PHRASES, n=1, cutoff=NEAR)
        if close:
            return "/leave " + " ".join([PHRASES[close[0]], *words[count:]])
    return None


def suggestion(command: str) -> str:
    """The answer to a near miss."""
    return f"Did you mean `{command}`? (`/leave help` lists everything I understand.)"
