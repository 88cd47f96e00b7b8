"""What `/leave help` says."""

HELP = """*leavebot* books your leave and asks your approver for you.
• `/leave` opens a form.
• `/leave tomorrow`, `/leave fri pm for the dentist`, `/leave 2026-12-21 to 2026-12-24 for skiing`, `/leave today 09:00-12:30` — I'll show you what I understood before anything is sent.
• `/leave who` (or `who tomorrow`, `who 2026-12-24`) shows who is off.
• Your leave and what waits for your approval are on my *Home* tab.
Days can be `today`, `tomorrow`, a weekday (`fri`) or a date (`2026-12-24`); add `am`/`morning` or `pm`/`afternoon` for half days."""
