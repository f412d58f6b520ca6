from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from feedgate.kit.base import Base


class ZipDma(Base):
    """US zip code to Nielsen DMA, loaded by operators with `feedgate geo load-dma`."""

    __tablename__ = "zip_dma"

    zip: Mapped[str] = mapped_column(String(5), primary_key=True)
    dma: Mapped[str] = mapped_column(String(8))
