import uuid


def new_id() -> str:
    """A system ID: 32 lowercase hex characters."""
    return uuid.uuid4().hex
