"""Base for request bodies: strict types (no "1" for 1), unknown fields ignored, as DESIGN.md says."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints


class RequestBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Desc = Annotated[str, StringConstraints(min_length=1, max_length=500)]
ExternalId = Annotated[str, StringConstraints(max_length=200)]
IdRef = Annotated[str, StringConstraints(min_length=1, max_length=200)]
