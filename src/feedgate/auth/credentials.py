"""Where clients find their user ID and API key: environment first, then the credentials file."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

CREDENTIALS_FILE = Path("~/.config/feedgate/credentials")


@dataclass(frozen=True)
class Credentials:
    user_id: str
    api_key: str


def credentials_path() -> Path:
    return Path(os.environ.get("FEEDGATE_CREDENTIALS", str(CREDENTIALS_FILE))).expanduser()


def load_credentials() -> Credentials | None:
    """FEEDGATE_USER_ID/FEEDGATE_API_KEY, else the file (JSON {"user_id", "api_key"} or KEY=VALUE lines)."""
    user_id, api_key = os.environ.get("FEEDGATE_USER_ID"), os.environ.get("FEEDGATE_API_KEY")
    if user_id and api_key:
        return Credentials(user_id, api_key)
    path = credentials_path()
    if not path.is_file():
        return None
    text = path.read_text()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                data[key.strip().lower().removeprefix("feedgate_")] = value.strip()
    if isinstance(data, dict) and data.get("user_id") and data.get("api_key"):
        return Credentials(str(data["user_id"]), str(data["api_key"]))
    return None
