"""Base for request bodies: strict types (no "1" for 1), unknown fields ignored, as DESIGN.md says."""

import copy
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError


class RequestBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class PatchBody(RequestBody):
    """A PATCH body, one rule for every resource: a field left out keeps its value; `null` clears a field
    named in CLEARABLE (to the empty value the documents show: "" or []) and is a 400 naming any other."""

    CLEARABLE: ClassVar[dict[str, Any]] = {}

    @model_validator(mode="after")
    def _nulls(self) -> "PatchBody":
        for name in sorted(self.model_fields_set):
            if getattr(self, name) is None:
                if name not in self.CLEARABLE:
                    raise PydanticCustomError("null_refused", "Field '{name}' cannot be null: leave it out to keep "
                                              "its value", {"name": name})
                setattr(self, name, copy.copy(self.CLEARABLE[name]))
        return self


def _a_number(value: Any) -> Any:
    # JSON has one number type: 3 and 3.0 are both fine for a float field, but true and "3" are not.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("Input should be a number")
    return float(value)


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and no name, ID or URL needs one: refused alike on both databases.
    if "\x00" in value:
        raise ValueError("Input should not contain a NUL character")
    return value


NO_NUL = AfterValidator(_no_nul)
Number = Annotated[float, BeforeValidator(_a_number), Field(allow_inf_nan=False)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), NO_NUL]
Desc = Annotated[str, StringConstraints(min_length=1, max_length=500), NO_NUL]
ExternalId = Annotated[str, StringConstraints(max_length=200), NO_NUL]
IdRef = Annotated[str, StringConstraints(min_length=1, max_length=200), NO_NUL]
