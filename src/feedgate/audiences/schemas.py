import ipaddress
import re
from typing import Annotated, Literal

import pycountry
from pydantic import BeforeValidator, Field, StringConstraints, field_validator

from feedgate.kit.schemas import NO_NUL, Desc, ExternalId, IdRef, PatchBody, RequestBody

COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)
ZIP_RE = re.compile(r"^\d{5}$")
DMA_RE = re.compile(r"^\d{1,4}$")
MatchType = Annotated[Literal["ALL", "ANY", "NONE"], BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v)]
Value = Annotated[str, StringConstraints(min_length=1, max_length=100), NO_NUL]
Values = Annotated[list[Value], Field(max_length=100_000)]


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def normalise_network(value: str) -> str:
    network = ipaddress.ip_network(value.strip(), strict=False)
    full = network.max_prefixlen == network.prefixlen
    return str(network.network_address) if full else str(network)


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
            if code not in COUNTRIES:
                raise ValueError(f"item {index} '{values[index]}' is not an ISO 3166-1 alpha-2 country code")
        return sorted(set(upper))

    @field_validator("zip_codes")
    @classmethod
    def _zips(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        for index, code in enumerate(values):
            if not ZIP_RE.match(code):
                raise ValueError(f"item {index} '{code}' is not a 5-digit US zip code")
        return sorted(set(values))

    @field_validator("dma_codes")
    @classmethod
    def _dmas(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        for index, code in enumerate(values):
            if not DMA_RE.match(code):
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
