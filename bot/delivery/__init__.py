"""The one delivery layer to Telegram: lanes of a durable outbox, pacing, error taxonomy."""
