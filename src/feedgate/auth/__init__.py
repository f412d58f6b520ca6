"""Users, API keys and the signed-request check."""
