"""Audiences and superaudiences: request bodies (validated by `geo.validators`) and the response shape."""

from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints, TypeAdapter, field_validator

from feedgate.geo.validators import is_country, is_dma, is_zip, normalise_network
from feedgate.kit.schemas import NO_NUL, Collection, Desc, ExternalId, IdRef, PatchBody, RequestBody, Shape

MatchType = Annotated[Literal["ALL", "ANY", "NONE"], BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v)]
Value = Annotated[str, StringConstraints(min_length=1, max_length=100), NO_NUL]
Values = Annotated[list[Value], Field(max_length=100_000)]
STORED_VALUES = TypeAdapter(Values | None)  # a stored list read back (decisions check the rows they compile)


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class AudienceFields(RequestBody):
    desc: Desc | None = None
    external_id: ExternalId | None = None
    match_type: MatchType | None = None
    country_codes: Values | None = None
    zip_codes: Values | None = None
    dma_codes: Values | None = None
    ip_networks: Values | None = None
    devices: Values | None = None
    sub_audiences: Annotated[list[IdRef], Field(max_length=10_000)] | None = None

    @field_validator("country_codes")
    @classmethod
    def _countries(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        upper = [v.strip().upper() for v in values]
        for index, code in enumerate(upper):
            if not is_country(code):
                raise ValueError(f"item {index} '{values[index]}' is not an ISO 3166-1 alpha-2 country code")
        return sorted(set(upper))

    @field_validator("zip_codes")
    @classmethod
    def _zips(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        for index, code in enumerate(values):
            if not is_zip(code):
                raise ValueError(f"item {index} '{code}' is not a 5-digit US zip code")
        return sorted(set(values))

    @field_validator("dma_codes")
    @classmethod
    def _dmas(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        for index, code in enumerate(values):
            if not is_dma(code):
                raise ValueError(f"item {index} '{code}' is not a numeric Nielsen DMA code such as '501'")
        return sorted(set(values), key=lambda c: (len(c), c))

    @field_validator("ip_networks")
    @classmethod
    def _networks(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        out = []
        for index, value in enumerate(values):
            try:
                out.append(normalise_network(value))
            except ValueError:
                raise ValueError(f"item {index} '{value}' is not an IPv4/IPv6 address or network") from None
        return _dedupe(out)

    @field_validator("devices")
    @classmethod
    def _devices(cls, values: list[str] | None) -> list[str] | None:
        return None if values is None else _dedupe([v.strip() for v in values if v.strip()] or values)


class AudienceCreate(AudienceFields):
    desc: Desc
    type: Literal["Single", "Multiple"] = "Single"


class AudienceUpdate(AudienceFields, PatchBody):
    CLEARABLE = {"external_id": "", "country_codes": [], "zip_codes": [], "dma_codes": [], "ip_networks": [],
                 "devices": [], "sub_audiences": []}

    type: Literal["Single", "Multiple"] | None = None


class Audience(Shape):
    at_id: str = Field(alias="@id")
    at_type: Literal["Audience"] = Field("Audience", alias="@type")
    id: str
    owner: str
    created: str
    updated: str
    desc: str
    external_id: str
    match_type: Literal["ALL", "ANY", "NONE"]
    type: Literal["Single", "Multiple"]
    country_codes: list[str]
    zip_codes: list[str]
    dma_codes: list[str]
    ip_networks: list[str]
    devices: list[str]
    sub_audiences: list[str]

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "@id": "/api/v4/audiences/1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6", "@type": "Audience",
        "id": "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6", "owner": "ab533864a92b46a1a286cdd49b0a9bd3",
        "created": "2024-01-08T20:31:11.510Z", "updated": "2024-01-08T20:31:11.510Z", "desc": "My New audience",
        "external_id": "NorthAmerica", "match_type": "ANY", "type": "Single", "country_codes": ["CA", "US"],
        "zip_codes": ["90503"], "dma_codes": ["803"], "ip_networks": ["192.0.2.0/24"], "devices": ["Roku"],
        "sub_audiences": []}]})


class Audiences(Collection[Audience]):
    pass
