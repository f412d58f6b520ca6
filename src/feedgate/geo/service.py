"""Viewer location: a MaxMind-format City database and the operators' zip-to-DMA table."""

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import maxminddb
from sqlalchemy import delete
from sqlalchemy.orm import Session

from feedgate.geo.models import ZipDma
from feedgate.geo.validators import is_dma, is_zip
from feedgate.kit.versions import decisions_changed


@dataclass(frozen=True)
class Location:
    country: str | None = None
    zip: str | None = None
    dma: str | None = None


class GeoReader:
    """Looks up IPs in a City database; with no database configured every IP is unlocated."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self._reader: Any = maxminddb.open_database(path) if path else None

    def locate(self, ip: str) -> Location:
        if self._reader is None:
            return Location()
        try:
            record = self._reader.get(ip)
        except ValueError:
            return Location()
        if not isinstance(record, dict):
            return Location()
        country = (record.get("country") or {}).get("iso_code")
        postal = (record.get("postal") or {}).get("code")
        metro = (record.get("location") or {}).get("metro_code")
        return Location(country=country, zip=postal if postal and is_zip(str(postal)) else None,
                        dma=str(metro) if metro is not None else None)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()


@dataclass
class LoadReport:
    loaded: int
    refused: list[str]


def load_dma_csv(session: Session, path: Path, *, replace: bool = True) -> LoadReport:
    """Load `zip,dma` rows (a header row is allowed); refuse malformed rows and say which and why."""
    rows: dict[str, str] = {}
    refused: list[str] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) < 2:
                refused.append(f"line {number}: expected two columns zip,dma")
                continue
            zip_code, dma = row[0].strip(), row[1].strip()
            if number == 1 and not is_zip(zip_code):
                continue  # header
            if not is_zip(zip_code):
                refused.append(f"line {number}: '{zip_code}' is not a 5-digit zip code")
            elif not is_dma(dma):
                refused.append(f"line {number}: '{dma}' is not a numeric DMA code")
            else:
                rows[zip_code] = dma
    if replace:
        session.execute(delete(ZipDma))
    else:
        session.execute(delete(ZipDma).where(ZipDma.zip.in_(list(rows))))
    session.add_all(ZipDma(zip=z, dma=d) for z, d in rows.items())
    decisions_changed(session)
    session.commit()
    return LoadReport(len(rows), refused)

