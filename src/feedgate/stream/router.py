"""GET /channel/{id}.m3u8 and its renditions: the viewer's stream, outside /api/v4 like the vendor's host.

Playlists take a playback token only (the signed URL a player holds): the variant URIs carry the
same query, so every request of a viewer is authorised and decided alike. Refusals are the error
body with 401/403/404, never a playlist.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from feedgate.auth.dependencies import SignatureCheck, SignaturesDep, token_owner
from feedgate.auth.tokens import is_token
from feedgate.kit.errors import not_found, unauthorized
from feedgate.kit.hotpath import HotRequest, HotResponse, HotRoute
from feedgate.stream.playlists import CONTENT_TYPE
from feedgate.stream.service import StreamService
from feedgate.stream.upstream import slate_file

router = APIRouter(tags=["viewer stream"])
# One viewer's playlist must never be served to another by a cache on the way.
HEADERS = ((b"cache-control", b"private, no-store"),)
RENDITIONS = 64


async def stream_of(request: Request) -> StreamService:
    return request.app.state.runtime.stream


Stream = Annotated[StreamService, Depends(stream_of)]


async def playlist(signatures: SignatureCheck, stream: StreamService, channel_id: str, rendition: int | None,
                   raw_query: bytes, client_host: str | None) -> bytes:
    """The shared body of the FastAPI routes and the hot route: authorise, decide, render."""
    if not is_token(raw_query):
        raise unauthorized("A viewer's playlist needs a playback token in its URL: "
                           "?tc=1&exp=…&rn=…&ct=c&cid=…&oid=…&sig=… (`feedgate playback-url CHANNEL --hls` makes one).")
    owner, params = await token_owner(signatures, raw_query, channel_id)
    await stream.decisions.fresh(channel_id)
    watching = stream.watching(channel_id, owner, params, client_host)
    if rendition is None:
        text = await stream.ladder(watching, raw_query.decode("latin-1"))
    else:
        text = await stream.media(watching, rendition)
    return text.encode()


def _response(body: bytes) -> Response:
    return Response(body, media_type=CONTENT_TYPE, headers={k.decode(): v.decode() for k, v in HEADERS})


@router.get("/channel/{channel_id}.m3u8", summary="The viewer's multivariant HLS playlist (playback token)",
            response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
async def channel_playlist(channel_id: Annotated[str, Path(max_length=200)], request: Request,
                           signatures: SignaturesDep, stream: Stream) -> Response:
    return _response(await playlist(signatures, stream, channel_id, None, request.scope.get("query_string", b""),
                                    request.client.host if request.client else None))


@router.get("/channel/{channel_id}/{rendition}.m3u8", summary="One rendition's live media playlist (playback token)",
            response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
async def rendition_playlist(channel_id: Annotated[str, Path(max_length=200)],
                             rendition: Annotated[int, Path(ge=0, lt=RENDITIONS)], request: Request,
                             signatures: SignaturesDep, stream: Stream) -> Response:
    return _response(await playlist(signatures, stream, channel_id, rendition,
                                    request.scope.get("query_string", b""),
                                    request.client.host if request.client else None))


@router.get("/stream/slate/{name}", summary="The slate feedgate ships (playlists and segments)",
            response_class=Response, include_in_schema=False)
def slate(name: str) -> Response:
    data = slate_file(name)
    if data is None:
        raise not_found("Slate file", name)
    kind = CONTENT_TYPE if name.endswith(".m3u8") else "video/mp2t"
    return Response(data, media_type=kind, headers={"cache-control": "public, max-age=86400"})


def hot_playlists(signatures: SignatureCheck, stream: StreamService) -> list[HotRoute]:
    """The playlists without FastAPI's machinery: the same function, straight to bytes."""

    async def ladder(request: HotRequest) -> HotResponse | None:
        if len(request.path_params["channel_id"]) > 200:
            return None
        body = await playlist(signatures, stream, request.path_params["channel_id"], None,
                              request.scope.get("query_string", b""), request.client_host)
        return HotResponse(body, CONTENT_TYPE.encode(), HEADERS)

    async def media(request: HotRequest) -> HotResponse | None:
        number = request.path_params["rendition"]
        if not (number.isascii() and number.isdigit() and int(number) < RENDITIONS) \
                or len(request.path_params["channel_id"]) > 200:
            return None  # the FastAPI route words the error
        body = await playlist(signatures, stream, request.path_params["channel_id"], int(number),
                              request.scope.get("query_string", b""), request.client_host)
        return HotResponse(body, CONTENT_TYPE.encode(), HEADERS)

    return [HotRoute("GET", "/channel/{channel_id}.m3u8", ladder),
            HotRoute("GET", "/channel/{channel_id}/{rendition}.m3u8", media)]
