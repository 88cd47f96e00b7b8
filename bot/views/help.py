"""What `/leave help` says."""

HELP = """*leavebot* books your leave and asks your approver for you.
• `/leave` opens a form.
• Or just type it: `/leave tomorrow`, `/leave next friday afternoon for the dentist`, `/leave Dec 24 - Jan 2`, `/leave 3 days from monday`, `/leave sick today`, `/leave tue 9am-12pm` — I'll show you what I understood before anything is sent.
• `/leave who` (or `who tomorrow`, `who next week`, `who @someone`) shows who is off.
• `/leave mine` lists your upcoming leave, each with a Cancel button.
• Approvers: `/leave delegate @someone until Dec 24` sends your approval cards to them (`/leave delegate off` to stop).
• Your leave, your balance and what waits for your approval are on my *Home* tab.
Add `am`/`morning` or `pm`/`afternoon` for half days, a leave type (`sick`, `holiday`) and `for <reason>`."""
