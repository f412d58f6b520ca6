"""Fixtures of the SCTE 224 tests."""

from collections.abc import Iterator

import pytest

from tests.support.rights import Publisher, serve_publisher


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    yield from serve_publisher()
