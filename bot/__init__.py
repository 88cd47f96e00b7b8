"""leavebot: leave requests from Slack, booked in the HR system you already use."""
