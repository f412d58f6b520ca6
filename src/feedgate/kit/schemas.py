"""Request bodies (strict types, unknown fields ignored, as DESIGN.md says) and the bases of response shapes."""

import copy
from typing import Annotated, Any, ClassVar, Generic, Literal, NotRequired, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema
from typing_extensions import TypedDict


class RequestBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class PatchBody(RequestBody):
    """A PATCH body, one rule for every resource: a field left out keeps its value; `null` clears a field
    named in CLEARABLE (to the empty value the documents show: "" or []) and is a 400 naming any other."""

    CLEARABLE: ClassVar[dict[str, Any]] = {}

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> dict[str, Any]:
        out = handler(schema)
        target = handler.resolve_ref_schema(out)
        for name, prop in target.get("properties", {}).items():
            options = prop.get("anyOf")
            if name not in cls.CLEARABLE and options:  # null is a 400 here: the schema does not offer it
                kept = [o for o in options if o.get("type") != "null"]
                prop.pop("anyOf")
                prop.update(kept[0] if len(kept) == 1 else {"anyOf": kept})
        return out

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


class _NoNul:
    """Refuses NUL, and says so in the JSON schema (a pattern), so clients generated from it know."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_no_nul, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return {**handler(schema), "pattern": "^[^\\u0000]*$"}


NO_NUL = _NoNul()
# A number field: use as Annotated[float, Field(ge=…, le=…, allow_inf_nan=False), NUMBER] (the bounds
# first, so they reach the JSON schema as minimum and maximum).
NUMBER = BeforeValidator(_a_number)
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), NO_NUL]
Desc = Annotated[str, StringConstraints(min_length=1, max_length=500), NO_NUL]
ExternalId = Annotated[str, StringConstraints(max_length=200), NO_NUL]
IdRef = Annotated[str, StringConstraints(min_length=1, max_length=200), NO_NUL]


# -- Response shapes -------------------------------------------------------------------------------
# One pydantic model per resource, declared once: the route's `response_model` (so OpenAPI documents every
# 2xx body), what the route renders (its serializer), and what `feedgate.client` parses.

T = TypeVar("T")


class Shape(BaseModel):
    """Base of every response shape: `@id`-style names by alias, unknown fields ignored (newer servers)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class Links(TypedDict):
    """Relative URLs carrying `page` and `page_size` (and the list's own parameters)."""

    first: str
    last: str
    next: NotRequired[str]
    prev: NotRequired[str]


class Tombstone(Shape):
    """An item deleted within the last ten minutes, listed with `include_deleted=true`."""

    at_id: str = Field(alias="@id")
    at_type: str = Field(alias="@type")
    id: str
    deleted: Literal[True] = True


class Listing(Shape, Generic[T]):
    """`{"@id", "@type": "Collection", "items", "total_items"}` (the seeds document `total_items` as String
    in their tables and show an integer in their examples: it is an integer)."""

    at_id: str = Field(alias="@id")
    at_type: Literal["Collection"] = Field("Collection", alias="@type")
    items: list[T]
    total_items: int


class Collection(Listing[T | Tombstone], Generic[T]):
    """A page of a collection, with its `@links`; tombstones appear only with `include_deleted=true`."""

    links: Links = Field(alias="@links")


class Deleted(Shape):
    """The answer to a DELETE: `@id` is the path as asked (an external ID stays an external ID)."""

    at_id: str = Field(alias="@id")
    at_type: str = Field(alias="@type")
    message: Literal["Deleted"] = "Deleted"
