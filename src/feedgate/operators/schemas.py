"""Operator accounts and the audit log: request bodies and response shapes."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from feedgate.kit.schemas import NO_NUL, Collection, PatchBody, RequestBody, Shape

Role = Literal["viewer", "operator", "admin"]
Login = Annotated[str, StringConstraints(min_length=3, max_length=100, pattern=r"^[A-Za-z0-9._@+-]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), NO_NUL]
Password = Annotated[str, StringConstraints(min_length=12, max_length=200), NO_NUL]


class OperatorCreate(RequestBody):
    login: Login = Field(description="What the operator types to sign in (letters, digits, . _ @ + -); unique.")
    name: Name = Field(description="How events and the audit log name them.")
    role: Role = "operator"
    password: Password = Field(description="At least 12 characters; stored as an argon2 hash only.")
    totp: bool = Field(False, description="Require a one-time code (TOTP): the answer carries the secret, once.")


class OperatorUpdate(PatchBody):
    name: Name | None = None
    role: Role | None = None
    password: Password | None = None
    enabled: bool | None = Field(None, description="false ends the operator's console sessions at once.")


class Operator(Shape):
    at_id: str = Field(alias="@id")
    at_type: Literal["Operator"] = Field("Operator", alias="@type")
    id: str
    owner: str
    login: str
    name: str
    role: Role
    enabled: bool
    totp: bool
    created: str
    updated: str


class OperatorWithSecret(Operator):
    totp_uri: str = Field("", description="otpauth:// URI for an authenticator app; shown on creation only.")


class Operators(Collection[Operator]):
    pass


class AuditEntry(Shape):
    id: int
    at: str
    actor_kind: str = Field(description="api (an API key), console (the API key in the console), operator.")
    actor_id: str
    actor_name: str
    action: str


class AuditLog(Collection[AuditEntry]):
    pass
