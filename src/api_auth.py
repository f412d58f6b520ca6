"""Drop-in for the v4 sample scripts: ``from api_auth import APICredentials, APIParams``.

Credentials come from FEEDGATE_USER_ID / FEEDGATE_API_KEY or ~/.config/feedgate/credentials;
signing is feedgate's own (feedgate.auth.signing), the same code the server verifies with.
"""

from typing import Any

from feedgate.auth.credentials import load_credentials
from feedgate.auth.signing import signed_params


class APICredentials:
    def __init__(self, user_id: str | None = None, api_key: str | None = None) -> None:
        if user_id is None or api_key is None:
            found = load_credentials()
            if found is None:
                raise RuntimeError("No feedgate credentials: set FEEDGATE_USER_ID and FEEDGATE_API_KEY "
                                   "or write ~/.config/feedgate/credentials")
            user_id, api_key = user_id or found.user_id, api_key or found.api_key
        self.user_id = user_id
        self.api_key = api_key


class APIParams:
    def __init__(self, credentials: APICredentials) -> None:
        self.credentials = credentials

    def get_params(self, data: dict[str, Any]) -> dict[str, str]:
        """Query parameters msg and sig for one request; `data` rides inside the signed message."""
        return signed_params(self.credentials.user_id, self.credentials.api_key, data)
