import re
import uuid

ID_RE = re.compile(r"^[0-9a-f]{32}$")


def new_id() -> str:
    """A system ID: 32 lowercase hex characters."""
    return uuid.uuid4().hex


def is_system_id(value: str) -> bool:
    return bool(ID_RE.match(value))
