"""How an alert group reads in each medium: Slack Block Kit, email (text + HTML)."""
