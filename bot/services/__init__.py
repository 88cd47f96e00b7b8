"""The work behind each Slack surface: requests, people, who's off. Listeners call these."""
