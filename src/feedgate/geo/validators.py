"""What a country, a US zip and a Nielsen DMA look like: the one home of these checks.

Audiences validate their lists with them, the decision endpoint its `repl.cb*` overrides, and the
zip-to-DMA loader its rows. Plain data: no database, no web.
"""

import functools
import ipaddress
import re

ZIP_RE = re.compile(r"^\d{5}$")
DMA_RE = re.compile(r"^\d{1,4}$")


@functools.cache
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (pycountry's table, loaded when first asked)."""
    import pycountry

    return frozenset(c.alpha_2 for c in pycountry.countries)


def is_country(code: str) -> bool:
    return code.upper() in countries()


def is_zip(code: str) -> bool:
    return bool(ZIP_RE.match(code))


def is_dma(code: str) -> bool:
    return bool(DMA_RE.match(code))


def parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address, or None when `value` is not an IPv4/IPv6 address."""
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def normalise_network(value: str) -> str:
    """`10.1.2.3/8` -> `10.0.0.0/8`; a host keeps its bare address form. ValueError when not one."""
    network = ipaddress.ip_network(value.strip(), strict=False)
    full = network.max_prefixlen == network.prefixlen
    return str(network.network_address) if full else str(network)
