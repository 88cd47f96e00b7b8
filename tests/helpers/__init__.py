"""What several test files share: card and button readers, the bot on a provider's fake."""
