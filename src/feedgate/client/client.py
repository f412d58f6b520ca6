"""A typed client for every endpoint of the v4 API, answering the server's own response shapes."""

import json as jsonlib
from collections.abc import Iterator
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from feedgate.auth.credentials import load_credentials
from feedgate.auth.signing import bound_params
from feedgate.auth.tokens import token_query
from feedgate.client import models as m
from feedgate.kit.errors import FeedgateError

T = TypeVar("T")
C = TypeVar("C", bound=m.Collection[Any])
DEFAULT_URL = "http://127.0.0.1:8000"


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


class FeedgateClient:
    def __init__(self, base_url: str = DEFAULT_URL, user_id: str | None = None, api_key: str | None = None,
                 timeout: float = 10.0) -> None:
        if user_id is None or api_key is None:
            found = load_credentials()
            if found is None:
                raise FeedgateError(401, "No credentials: set FEEDGATE_USER_ID and FEEDGATE_API_KEY "
                                         "or write ~/.config/feedgate/credentials.")
            user_id, api_key = found.user_id, found.api_key
        self.base_url = base_url.rstrip("/")
        self.user_id = user_id
        self.api_key = api_key
        self.http = httpx.Client(base_url=self.base_url + "/api/v4", timeout=timeout)
        self._api_path = urlsplit(self.base_url).path + "/api/v4"

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "FeedgateClient":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- transport -----------------------------------------------------------------------------
    def request(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None,
                content: bytes | None = None, content_type: str = "application/json",
                timeout: float | None = None) -> Any:
        """The answer's JSON (None when empty); JSON unless `content` is given with its `content_type`."""
        body = content if content is not None else None if json is None else jsonlib.dumps(json).encode()
        response = self._send(method, path, params, body, content_type, timeout)
        return response.json() if response.content else None

    def _send(self, method: str, path: str, params: dict[str, Any] | None, body: bytes | None,
              content_type: str = "application/json", timeout: float | None = None) -> httpx.Response:
        # Every request is bound to its method, path and body, with a nonce (docs/security.md).
        signed = bound_params(self.user_id, self.api_key, method, self._api_path + path, body)
        query = {**signed, **_drop_none(params or {})}
        headers = {"Content-Type": content_type} if body is not None else None
        try:
            response = self.http.request(method, path, content=body, params=query, headers=headers,
                                         timeout=timeout or self.http.timeout)
        except httpx.HTTPError as exc:
            raise FeedgateError(0, f"Cannot reach feedgate at {self.base_url}: {exc}.") from None
        if response.status_code >= 400:
            try:
                description = response.json().get("description") or response.text
            except ValueError:
                description = response.text or response.reason_phrase
            raise FeedgateError(response.status_code, description)
        return response

    def _page(self, shape: type[C], path: str, page: int = 1, page_size: int = 40, **params: Any) -> C:
        body = self.request("GET", path, params={"page": page, "page_size": page_size, **params})
        return shape.model_validate(body)

    def _all(self, shape: type[m.Collection[T]], path: str, **params: Any) -> Iterator[T]:
        """Every live item, page after page (tombstones are left out)."""
        page = 1
        while True:
            result = self._page(shape, path, page=page, **params)
            yield from (item for item in result.items if not isinstance(item, m.Tombstone))
            if "next" not in result.links:
                return
            page += 1

    # -- failover groups -------------------------------------------------------------------------
    def list_groups(self) -> list[m.FailoverGroup]:
        return list(self._all(m.FailoverGroups, "/failover-groups"))

    def get_group(self, group_id: str) -> m.FailoverGroup:
        return m.FailoverGroup.model_validate(self.request("GET", f"/failover-groups/{group_id}"))

    def create_group(self, name: str, **fields: Any) -> m.FailoverGroup:
        body = self.request("POST", "/failover-groups", {"name": name, **_drop_none(fields)})
        return m.FailoverGroup.model_validate(body)

    def update_group(self, group_id: str, **fields: Any) -> None:
        self.request("PATCH", f"/failover-groups/{group_id}", _drop_none(fields))

    def delete_group(self, group_id: str) -> None:
        self.request("DELETE", f"/failover-groups/{group_id}")

    def activate_slicer(self, group_id: str, slicer_id: str) -> None:
        self.request("PUT", f"/failover-groups/{group_id}/activate_slicer", {"slicer_id": slicer_id})

    def set_no_slicer(self, group_id: str, no_slicer: bool) -> None:
        self.request("PUT", f"/failover-groups/{group_id}/set_no_slicer", {"no_slicer": no_slicer})

    def change_channels(self, group_id: str, add: list[str] | None = None, remove: list[str] | None = None) -> None:
        self.request("PUT", f"/failover-groups/{group_id}/channels",
                     {"channels_ids_to_add": add or [], "channels_ids_to_remove": remove or []})

    def allowed_owners(self, group_id: str) -> list[m.AllowedOwner]:
        return m.AllowedOwners.model_validate(self.request("GET", f"/failover-groups/{group_id}/allowed-owners")).items

    def change_allowed_owners(self, group_id: str, add: list[str] | None = None,
                              remove: list[str] | None = None) -> None:
        self.request("PUT", f"/failover-groups/{group_id}/allowed-owners",
                     {"owners_to_add": add or [], "owners_to_remove": remove or []})

    def change_slicers(self, group_id: str, slicers: list[dict[str, Any]]) -> None:
        self.request("PUT", f"/failover-groups/{group_id}/slicers", {"slicers": slicers})

    def remove_slicer(self, group_id: str, slicer_id: str) -> None:
        self.request("DELETE", f"/failover-groups/{group_id}/slicers/{slicer_id}")

    def events(self, group_id: str, page_size: int = 40) -> list[m.FailoverEvent]:
        found = self._page(m.FailoverEvents, f"/failover-groups/{group_id}/events", page_size=page_size).items
        return [e for e in found if isinstance(e, m.FailoverEvent)]

    # -- channels --------------------------------------------------------------------------------
    def create_channel(self, desc: str, external_id: str | None = None) -> m.Channel:
        return m.Channel.model_validate(self.request("POST", "/channels",
                                                     _drop_none({"desc": desc, "external_id": external_id})))

    def list_channels(self) -> list[m.Channel]:
        return list(self._all(m.Channels, "/channels"))

    def get_channel(self, channel_id: str) -> m.Channel:
        return m.Channel.model_validate(self.request("GET", f"/channels/{channel_id}"))

    def update_channel(self, channel_id: str, desc: str | None = None, external_id: str | None = None) -> m.Channel:
        body = self.request("PATCH", f"/channels/{channel_id}", _drop_none({"desc": desc, "external_id": external_id}))
        return m.Channel.model_validate(body)

    def delete_channel(self, channel_id: str) -> None:
        self.request("DELETE", f"/channels/{channel_id}")

    # -- slicers ---------------------------------------------------------------------------------
    def heartbeat(self, slicer_id: str, hostname: str, failover_group_id: str | None = None,
                  signals: dict[str, float] | None = None, thumb_url: str | None = None,
                  hls_url: str | None = None) -> m.HeartbeatAnswer:
        body = self.request("PUT", f"/slicers/{slicer_id}/status", _drop_none(
            {"hostname": hostname, "failover_group_id": failover_group_id, "signals": signals,
             "thumb_url": thumb_url, "hls_url": hls_url}))
        return m.HeartbeatAnswer.model_validate(body)

    def list_slicers(self) -> list[m.Slicer]:
        return list(self._all(m.Slicers, "/slicers"))

    def get_slicer(self, slicer_id: str) -> m.Slicer:
        return m.Slicer.model_validate(self.request("GET", f"/slicers/{slicer_id}"))

    def delete_slicer(self, slicer_id: str) -> None:
        self.request("DELETE", f"/slicers/{slicer_id}")

    # -- audiences, rules, blackouts ---------------------------------------------------------------
    def create_audience(self, desc: str, **fields: Any) -> m.Audience:
        return m.Audience.model_validate(self.request("POST", "/audiences", {"desc": desc, **_drop_none(fields)}))

    def list_audiences(self) -> list[m.Audience]:
        return list(self._all(m.Audiences, "/audiences"))

    def get_audience(self, audience_id: str) -> m.Audience:
        return m.Audience.model_validate(self.request("GET", f"/audiences/{audience_id}"))

    def update_audience(self, audience_id: str, **fields: Any) -> m.Audience:
        return m.Audience.model_validate(self.request("PATCH", f"/audiences/{audience_id}", _drop_none(fields)))

    def delete_audience(self, audience_id: str) -> None:
        self.request("DELETE", f"/audiences/{audience_id}")

    def create_rule(self, desc: str, **fields: Any) -> m.Rule:
        return m.Rule.model_validate(self.request("POST", "/rules", {"desc": desc, **_drop_none(fields)}))

    def list_rules(self) -> list[m.Rule]:
        return list(self._all(m.Rules, "/rules"))

    def get_rule(self, rule_id: str) -> m.Rule:
        return m.Rule.model_validate(self.request("GET", f"/rules/{rule_id}"))

    def update_rule(self, rule_id: str, **fields: Any) -> m.Rule:
        return m.Rule.model_validate(self.request("PATCH", f"/rules/{rule_id}", _drop_none(fields)))

    def delete_rule(self, rule_id: str) -> None:
        self.request("DELETE", f"/rules/{rule_id}")

    # -- SCTE 224 -------------------------------------------------------------------------------
    def import_scte224(self, document: bytes, channel_map: dict[str, str] | None = None,
                       dry_run: bool = False, timeout: float = 600.0) -> m.Scte224Import:
        params = {"dry_run": "true" if dry_run else None,
                  "channel_map": [f"{k}={v}" for k, v in (channel_map or {}).items()] or None}
        return m.Scte224Import.model_validate(self.request("POST", "/scte224", params=params, content=document,
                                                           content_type="application/xml", timeout=timeout))

    def scte224_imports(self, page_size: int = 40) -> list[m.Scte224Import]:
        return [i for i in self._page(m.Scte224Imports, "/scte224/imports", page_size=page_size).items
                if isinstance(i, m.Scte224Import)]

    def export_scte224(self, channel_id: str) -> bytes:
        """The channel as an SCTE 224 document (XML bytes)."""
        return self._send("GET", f"/scte224/media/{channel_id}", None, None).content

    def create_scte224_feed(self, url: str, **fields: Any) -> m.Scte224Feed:
        return m.Scte224Feed.model_validate(self.request("POST", "/scte224/feeds", {"url": url, **_drop_none(fields)}))

    def list_scte224_feeds(self) -> list[m.Scte224Feed]:
        return list(self._all(m.Scte224Feeds, "/scte224/feeds"))

    def check_scte224_feed(self, feed_id: str) -> m.Scte224Feed:
        return m.Scte224Feed.model_validate(self.request("POST", f"/scte224/feeds/{feed_id}/check"))

    def delete_scte224_feed(self, feed_id: str) -> None:
        self.request("DELETE", f"/scte224/feeds/{feed_id}")

    # -- webhooks ---------------------------------------------------------------------------------
    def create_webhook(self, url: str, events: list[str], **fields: Any) -> m.WebhookWithSecret:
        return m.WebhookWithSecret.model_validate(self.request("POST", "/webhooks", {"url": url, "events": events,
                                                                                      **_drop_none(fields)}))

    def list_webhooks(self) -> list[m.Webhook]:
        return list(self._all(m.Webhooks, "/webhooks"))

    def get_webhook(self, webhook_id: str) -> m.Webhook:
        return m.Webhook.model_validate(self.request("GET", f"/webhooks/{webhook_id}"))

    def update_webhook(self, webhook_id: str, **fields: Any) -> m.Webhook:
        return m.Webhook.model_validate(self.request("PATCH", f"/webhooks/{webhook_id}", _drop_none(fields)))

    def delete_webhook(self, webhook_id: str) -> None:
        self.request("DELETE", f"/webhooks/{webhook_id}")

    def rotate_webhook_secret(self, webhook_id: str) -> m.WebhookWithSecret:
        return m.WebhookWithSecret.model_validate(self.request("POST", f"/webhooks/{webhook_id}/rotate-secret"))

    def test_webhook(self, webhook_id: str) -> m.WebhookDelivery:
        return m.WebhookDelivery.model_validate(self.request("POST", f"/webhooks/{webhook_id}/test"))

    def webhook_deliveries(self, webhook_id: str, page_size: int = 40) -> list[m.WebhookDelivery]:
        found = self._page(m.WebhookDeliveries, f"/webhooks/{webhook_id}/deliveries", page_size=page_size).items
        return [d for d in found if isinstance(d, m.WebhookDelivery)]

    def create_blackout(self, channel_id: str, blackout_id: str, rules: list[str] | None = None,
                        **fields: Any) -> m.Blackout:
        body = self.request("POST", f"/channels/{channel_id}/blackouts",
                            {"blackout_id": blackout_id, "rules": rules or [], **_drop_none(fields)})
        return m.Blackout.model_validate(body)

    def list_blackouts(self, channel_id: str, order: str | None = None) -> list[m.Blackout]:
        return list(self._all(m.Blackouts, f"/channels/{channel_id}/blackouts", order=order))

    def get_blackout(self, channel_id: str, blackout_id: str) -> m.BlackoutWithRules:
        return m.BlackoutWithRules.model_validate(self.request("GET",
                                                               f"/channels/{channel_id}/blackouts/{blackout_id}"))

    def update_blackout(self, channel_id: str, blackout_ref: str, **fields: Any) -> m.Blackout:
        """Change a blackout (addressed by system or external ID); `blackout_id=` renames its blackout ID."""
        body = self.request("PATCH", f"/channels/{channel_id}/blackouts/{blackout_ref}", _drop_none(fields))
        return m.Blackout.model_validate(body)

    def delete_blackout(self, channel_id: str, blackout_id: str) -> None:
        self.request("DELETE", f"/channels/{channel_id}/blackouts/{blackout_id}")

    # -- programs and decisions --------------------------------------------------------------------
    def start_program(self, channel_id: str, blackout_id: str | None, title: str = "",
                      start: str | None = None) -> m.Program:
        body = self.request("PUT", f"/channels/{channel_id}/program",
                            {"blackout_id": blackout_id, "title": title, **_drop_none({"start": start})})
        return m.Program.model_validate(body)

    def get_program(self, channel_id: str, at: str | None = None) -> m.Program:
        return m.Program.model_validate(self.request("GET", f"/channels/{channel_id}/program", params={"at": at}))

    def send_scte35(self, channel_id: str, cue: str, time: str | None = None) -> m.Program:
        body = self.request("POST", f"/channels/{channel_id}/scte35", _drop_none({"cue": cue, "time": time}))
        return m.Program.model_validate(body)

    def add_window(self, channel_id: str, blackout_id: str, start: str, end: str) -> m.ScheduleWindow:
        body = self.request("POST", f"/channels/{channel_id}/schedule",
                            {"blackout_id": blackout_id, "start": start, "end": end})
        return m.ScheduleWindow.model_validate(body)

    def list_windows(self, channel_id: str) -> list[m.ScheduleWindow]:
        return list(self._all(m.ScheduleWindows, f"/channels/{channel_id}/schedule"))

    def delete_window(self, channel_id: str, window_id: str) -> None:
        self.request("DELETE", f"/channels/{channel_id}/schedule/{window_id}")

    def playback_url(self, channel_id: str, ttl: int = 600, ip: str | None = None, country: str | None = None,
                     zip: str | None = None, dma: str | None = None, device: str | None = None,
                     hls: bool = False) -> str:
        """A playback URL signed with the vendor's token scheme: what a player or edge is handed. The decision
        (JSON), or with `hls` the channel's HLS playlist as this viewer sees it (/channel/{id}.m3u8)."""
        extras = {"repl.cbip": ip, "repl.cbcc": country, "repl.cbzip": zip, "repl.cbdma": dma,
                  "repl.cbdevice": device}
        query = token_query(self.user_id, self.api_key, channel_id, ttl, _drop_none(extras))
        if hls:
            return f"{self.base_url}/channel/{quote(channel_id, safe='')}.m3u8?{query}"
        return f"{self.base_url}/api/v4/channels/{channel_id}/playback?{query}"

    def playback(self, channel_id: str, ip: str | None = None, country: str | None = None, zip: str | None = None,
                 dma: str | None = None, device: str | None = None, at: str | None = None) -> m.PlaybackDecision:
        params = {"ip": ip, "repl.cbcc": country, "repl.cbzip": zip, "repl.cbdma": dma, "repl.cbdevice": device,
                  "at": at}
        return m.PlaybackDecision.model_validate(self.request("GET", f"/channels/{channel_id}/playback",
                                                              params=params))
