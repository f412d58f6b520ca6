"""feedgate.client: a typed httpx client for every endpoint of the v4 API.

Every error (4xx/5xx, or an unreachable server) raises feedgate.kit.errors.FeedgateError, the
same type the server raises, with the status and the server's description.
"""

from feedgate.client.client import FeedgateClient
from feedgate.kit.errors import FeedgateError

__all__ = ["FeedgateClient", "FeedgateError"]
