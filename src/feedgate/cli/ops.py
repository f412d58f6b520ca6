"""Operator commands over the API: groups, channels, slicers, audiences, rules, blackouts, programs, playback."""

import sys
from typing import Any

import typer
from rich.table import Table

from feedgate.cli.output import client, console, emit_json, events_table, friendly, group_panel, human_time, show

groups = typer.Typer(no_args_is_help=True, help="Failover groups.")
channels = typer.Typer(no_args_is_help=True, help="Live channels.")
slicers = typer.Typer(no_args_is_help=True, help="Live Slicers.")
audiences = typer.Typer(no_args_is_help=True, help="Blackout audiences and superaudiences.")
rules = typer.Typer(no_args_is_help=True, help="Blackout rules.")
blackouts = typer.Typer(no_args_is_help=True, help="Blackout configurations of a channel.")
program = typer.Typer(no_args_is_help=True, help="Program tags: now, by SCTE-35 cue, by schedule.")
webhooks = typer.Typer(no_args_is_help=True, help="Webhooks: signed alerts for failover and blackout events.")
JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")
FORMAT = typer.Option("feedgate", help="What the receiver gets: feedgate (signed JSON), slack (an incoming-"
                      "webhook message) or pagerduty (Events v2 trigger/resolve; needs --routing-key).")
ROUTING_KEY = typer.Option(None, help="PagerDuty's Events v2 integration key (format pagerduty); never shown again.")
UTC_OPTION = typer.Option(False, "--utc", help="Times in UTC instead of this machine's time zone.")


def _split(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


# -- groups ---------------------------------------------------------------------------------------
@groups.command("list")
@friendly
def groups_list(as_json: bool = JSON) -> None:
    """List your failover groups (and those shared with you)."""
    with client() as c:
        items = c.list_groups()
    show(items, as_json, ["id", "name", "mode", "auto_failback", "active_slicer_id"])


@groups.command("show")
@friendly
def groups_show(group_id: str, as_json: bool = JSON) -> None:
    """Group health: slicers with their state; the active one marked."""
    with client() as c:
        group = c.get_group(group_id)
    if as_json:
        emit_json(group)
    else:
        console.print(group_panel(group))


@groups.command("create")
@friendly
def groups_create(name: str, mode: str = "prioritized", auto_failback: bool = False, hot_warm: int = 0,
                  heartbeat_timeout_ms: int | None = None, clear_after_ms: int | None = None,
                  blacklist_ms: int | None = None, as_json: bool = JSON) -> None:
    """Create a failover group; slicers join it by heartbeat."""
    with client() as c:
        group = c.create_group(name, mode=mode, auto_failback=auto_failback, hot_warm=hot_warm,
                               heartbeat_timeout_ms=heartbeat_timeout_ms, clear_after_ms=clear_after_ms,
                               blacklist_ms=blacklist_ms)
    emit_json(group) if as_json else console.print(f"created failover group {group.id}")


@groups.command("delete")
@friendly
def groups_delete(group_id: str) -> None:
    """Delete a failover group (its slicers leave it)."""
    with client() as c:
        c.delete_group(group_id)
    console.print(f"deleted failover group {group_id}")


@groups.command("activate")
@friendly
def groups_activate(group_id: str, slicer_id: str) -> None:
    """Put SLICER_ID on air (OWNER_ID:SLICER_ID for another owner's member)."""
    with client() as c:
        c.activate_slicer(group_id, slicer_id)
    console.print(f"{slicer_id} is active in {group_id}")


@groups.command("no-slicer")
@friendly
def groups_no_slicer(group_id: str, on: bool = typer.Argument(..., help="true: slate; false: back to slicer")) -> None:
    """Put slate on air (true) or go back to the active slicer (false)."""
    with client() as c:
        c.set_no_slicer(group_id, on)
    console.print("slate on air" if on else "back to the active slicer")


@groups.command("configure")
@friendly
def groups_configure(group_id: str, name: str | None = None, mode: str | None = None,
                     auto_failback: bool | None = typer.Option(None, "--auto-failback/--no-auto-failback"),
                     hot_warm: int | None = None, heartbeat_timeout_ms: int | None = None,
                     clear_after_ms: int | None = None, blacklist_ms: int | None = None,
                     input_loss_ms: int | None = typer.Option(None, help="Unhealthy after this much input loss."),
                     video_black_ms: int | None = typer.Option(None, help="Unhealthy after this much black video."),
                     audio_silence_ms: int | None = typer.Option(None, help="Unhealthy after this much silence."),
                     dropped_frames_pct: float | None = typer.Option(None, help="Unhealthy above this % dropped."),
                     upload_queue_s: float | None = typer.Option(None, help="Unhealthy above this upload backlog."),
                     playlist_stale_ms: int | None = typer.Option(None, help="Unhealthy when its HLS playlist has "
                                                                  "not moved for this long.")) -> None:
    """Change a group's settings: mode, failback, timings and signal thresholds."""
    with client() as c:
        c.update_group(group_id, name=name, mode=mode, auto_failback=auto_failback, hot_warm=hot_warm,
                       heartbeat_timeout_ms=heartbeat_timeout_ms, clear_after_ms=clear_after_ms,
                       blacklist_ms=blacklist_ms, input_loss_ms=input_loss_ms, video_black_ms=video_black_ms,
                       audio_silence_ms=audio_silence_ms, dropped_frames_pct=dropped_frames_pct,
                       upload_queue_s=upload_queue_s, playlist_stale_ms=playlist_stale_ms)
        group = c.get_group(group_id)
    console.print(group_panel(group))


@groups.command("slicers")
@friendly
def groups_slicers(group_id: str, slicer_id: str, order: int | None = None,
                   enabled: bool | None = typer.Option(None, "--enable/--disable")) -> None:
    """Change a member's failover order or eligibility."""
    item: dict[str, Any] = {"slicer_id": slicer_id}
    if order is not None:
        item["order"] = order
    if enabled is not None:
        item["enabled"] = enabled
    with client() as c:
        c.change_slicers(group_id, [item])
    console.print(f"updated {slicer_id} in {group_id}")


@groups.command("channels")
@friendly
def groups_channels(group_id: str, add: list[str] = typer.Option([], "--add"),
                    remove: list[str] = typer.Option([], "--remove")) -> None:
    """Add channels to a group (--add ID) or take them out (--remove ID)."""
    with client() as c:
        c.change_channels(group_id, add, remove)
    console.print(f"channels added {len(add)}, removed {len(remove)}")


@groups.command("owners")
@friendly
def groups_owners(group_id: str, add: list[str] = typer.Option([], "--add"),
                  remove: list[str] = typer.Option([], "--remove"), as_json: bool = JSON) -> None:
    """List allowed owners, or add/remove them."""
    with client() as c:
        if add or remove:
            c.change_allowed_owners(group_id, add, remove)
        owners = c.allowed_owners(group_id)
    show(owners, as_json, ["owner", "failover_group_id"])


@groups.command("events")
@friendly
def groups_events(group_id: str, limit: int = 20, as_json: bool = JSON, utc: bool = UTC_OPTION) -> None:
    """A group's events, newest first, with local and relative times (--utc for UTC)."""
    with client() as c:
        events = c.events(group_id, page_size=limit)
    emit_json(events) if as_json else console.print(events_table(events, utc))


# -- channels -------------------------------------------------------------------------------------
CHANNEL_COLUMNS = ["id", "desc", "external_id", "failover_group_id", "slicer_id"]


@channels.command("list")
@friendly
def channels_list(as_json: bool = JSON) -> None:
    """List your channels."""
    with client() as c:
        show(c.list_channels(), as_json, CHANNEL_COLUMNS)


@channels.command("show")
@friendly
def channels_show(channel_id: str, as_json: bool = JSON) -> None:
    """Show one channel."""
    with client() as c:
        show(c.get_channel(channel_id), as_json)


@channels.command("create")
@friendly
def channels_create(desc: str, external_id: str | None = None, as_json: bool = JSON) -> None:
    """Create a channel."""
    with client() as c:
        show(c.create_channel(desc, external_id), as_json)


@channels.command("update")
@friendly
def channels_update(channel_id: str, desc: str | None = None, external_id: str | None = None,
                    as_json: bool = JSON) -> None:
    """Change a channel's description or external ID."""
    with client() as c:
        show(c.update_channel(channel_id, desc, external_id), as_json)


@channels.command("delete")
@friendly
def channels_delete(channel_id: str) -> None:
    """Delete a channel."""
    with client() as c:
        c.delete_channel(channel_id)
    console.print(f"deleted channel {channel_id}")


# -- slicers --------------------------------------------------------------------------------------
@slicers.command("list")
@friendly
def slicers_list(as_json: bool = JSON) -> None:
    """List your Live Slicers."""
    with client() as c:
        show(c.list_slicers(), as_json, ["id", "hostname", "failover_group_id", "order", "enabled", "last_heartbeat"])


@slicers.command("show")
@friendly
def slicers_show(slicer_id: str, as_json: bool = JSON) -> None:
    """Show one Live Slicer and its last heartbeat."""
    with client() as c:
        show(c.get_slicer(slicer_id), as_json)


@slicers.command("delete")
@friendly
def slicers_delete(slicer_id: str) -> None:
    """Delete a Live Slicer (it rejoins on its next heartbeat)."""
    with client() as c:
        c.delete_slicer(slicer_id)
    console.print(f"deleted slicer {slicer_id}")


# -- audiences ------------------------------------------------------------------------------------
def _audience_fields(countries: str | None, zips: str | None, dmas: str | None, networks: str | None,
                     devices: str | None, subs: str | None, match_type: str | None,
                     external_id: str | None) -> dict[str, Any]:
    return {"country_codes": _split(countries), "zip_codes": _split(zips), "dma_codes": _split(dmas),
            "ip_networks": _split(networks), "devices": _split(devices), "sub_audiences": _split(subs),
            "match_type": match_type, "external_id": external_id}


AUDIENCE_COLUMNS = ["id", "desc", "type", "match_type", "country_codes", "zip_codes", "dma_codes", "sub_audiences"]
COUNTRIES = typer.Option(None, "--countries", help="Comma-separated ISO codes.")
ZIPS = typer.Option(None, "--zips")
DMAS = typer.Option(None, "--dmas")
NETWORKS = typer.Option(None, "--networks")
DEVICES = typer.Option(None, "--devices")
SUBS = typer.Option(None, "--subs", help="Sub-audience IDs (superaudience).")


@audiences.command("list")
@friendly
def audiences_list(as_json: bool = JSON) -> None:
    """List your blackout audiences."""
    with client() as c:
        show(c.list_audiences(), as_json, AUDIENCE_COLUMNS)


@audiences.command("show")
@friendly
def audiences_show(audience_id: str, as_json: bool = JSON) -> None:
    """Show one audience."""
    with client() as c:
        show(c.get_audience(audience_id), as_json)


@audiences.command("create")
@friendly
def audiences_create(desc: str, type: str = "Single", match_type: str | None = None,
                     countries: str | None = COUNTRIES, zips: str | None = ZIPS, dmas: str | None = DMAS,
                     networks: str | None = NETWORKS, devices: str | None = DEVICES, subs: str | None = SUBS,
                     external_id: str | None = None, as_json: bool = JSON) -> None:
    """Create an audience from countries, zips, DMAs, networks or devices."""
    with client() as c:
        show(c.create_audience(desc, type=type, **_audience_fields(countries, zips, dmas, networks, devices, subs,
                                                                  match_type, external_id)), as_json)


@audiences.command("update")
@friendly
def audiences_update(audience_id: str, desc: str | None = None, match_type: str | None = None,
                     countries: str | None = COUNTRIES, zips: str | None = ZIPS, dmas: str | None = DMAS,
                     networks: str | None = NETWORKS, devices: str | None = DEVICES, subs: str | None = SUBS,
                     external_id: str | None = None, as_json: bool = JSON) -> None:
    """Change an audience."""
    with client() as c:
        show(c.update_audience(audience_id, desc=desc, **_audience_fields(countries, zips, dmas, networks,
                                                                         devices, subs, match_type, external_id)),
             as_json)


@audiences.command("delete")
@friendly
def audiences_delete(audience_id: str) -> None:
    """Delete an audience."""
    with client() as c:
        c.delete_audience(audience_id)
    console.print(f"deleted audience {audience_id}")


# -- rules ----------------------------------------------------------------------------------------
RULE_COLUMNS = ["id", "desc", "all_viewers", "audience", "alternate_content_type", "alternate_content_id"]


@rules.command("list")
@friendly
def rules_list(as_json: bool = JSON) -> None:
    """List your blackout rules."""
    with client() as c:
        show(c.list_rules(), as_json, RULE_COLUMNS)


@rules.command("show")
@friendly
def rules_show(rule_id: str, as_json: bool = JSON) -> None:
    """Show one rule."""
    with client() as c:
        show(c.get_rule(rule_id), as_json)


@rules.command("create")
@friendly
def rules_create(desc: str, audience: str | None = None, all_viewers: bool = False,
                 content_type: str = "slate", content_id: str | None = None,
                 loop: bool = typer.Option(True, "--loop/--no-loop"), external_id: str | None = None,
                 as_json: bool = JSON) -> None:
    """Create a rule: an audience (or all viewers) and its alternate content."""
    with client() as c:
        show(c.create_rule(desc, audience=audience, all_viewers=all_viewers, alternate_content_type=content_type,
                           alternate_content_id=content_id, alternate_content_loop=loop, external_id=external_id),
             as_json)


@rules.command("update")
@friendly
def rules_update(rule_id: str, desc: str | None = None, audience: str | None = None,
                 all_viewers: bool | None = typer.Option(None, "--all-viewers/--audience-only"),
                 content_type: str | None = None, content_id: str | None = None,
                 loop: bool | None = typer.Option(None, "--loop/--no-loop"), as_json: bool = JSON) -> None:
    """Change a rule."""
    with client() as c:
        show(c.update_rule(rule_id, desc=desc, audience=audience, all_viewers=all_viewers,
                           alternate_content_type=content_type, alternate_content_id=content_id,
                           alternate_content_loop=loop), as_json)


@rules.command("delete")
@friendly
def rules_delete(rule_id: str) -> None:
    """Delete a rule."""
    with client() as c:
        c.delete_rule(rule_id)
    console.print(f"deleted rule {rule_id}")


# -- blackouts ------------------------------------------------------------------------------------
@blackouts.command("list")
@friendly
def blackouts_list(channel_id: str, order: str | None = None, as_json: bool = JSON) -> None:
    """List a channel's blackouts."""
    with client() as c:
        show(c.list_blackouts(channel_id, order), as_json, ["id", "blackout_id", "desc", "rules"])


@blackouts.command("show")
@friendly
def blackouts_show(channel_id: str, blackout_id: str, as_json: bool = JSON) -> None:
    """Show one blackout of a channel."""
    with client() as c:
        show(c.get_blackout(channel_id, blackout_id), as_json)


@blackouts.command("create")
@friendly
def blackouts_create(channel_id: str, blackout_id: str, rule: list[str] = typer.Option([], "--rule"),
                     desc: str | None = None, external_id: str | None = None, as_json: bool = JSON) -> None:
    """Create a blackout on a channel from rules."""
    with client() as c:
        show(c.create_blackout(channel_id, blackout_id, rule, desc=desc, external_id=external_id), as_json)


@blackouts.command("update")
@friendly
def blackouts_update(channel_id: str, blackout_id: str, new_blackout_id: str | None = None,
                     rule: list[str] | None = typer.Option(None, "--rule"), desc: str | None = None,
                     as_json: bool = JSON) -> None:
    """Change a blackout."""
    with client() as c:
        show(c.update_blackout(channel_id, blackout_id, blackout_id=new_blackout_id, rules=rule or None, desc=desc),
             as_json)


@blackouts.command("delete")
@friendly
def blackouts_delete(channel_id: str, blackout_id: str) -> None:
    """Delete a blackout."""
    with client() as c:
        c.delete_blackout(channel_id, blackout_id)
    console.print(f"deleted blackout {blackout_id}")


# -- programs -------------------------------------------------------------------------------------
@program.command("set")
@friendly
def program_set(channel_id: str, blackout_id: str | None = typer.Argument(None, help="Omit to clear."),
                title: str = "", start: str | None = None, as_json: bool = JSON) -> None:
    """Start a program on a channel now (its blackout applies), or clear it."""
    with client() as c:
        show(c.start_program(channel_id, blackout_id, title, start), as_json)


@program.command("show")
@friendly
def program_show(channel_id: str, at: str | None = None, as_json: bool = JSON) -> None:
    """What a channel's program is now, or at --at."""
    with client() as c:
        show(c.get_program(channel_id, at), as_json)


@program.command("cue")
@friendly
def program_cue(channel_id: str, cue: str, time: str | None = None, as_json: bool = JSON) -> None:
    """Tag programming from a SCTE-35 cue (base64 or hex)."""
    with client() as c:
        show(c.send_scte35(channel_id, cue, time), as_json)


@program.command("schedule-add")
@friendly
def program_schedule_add(channel_id: str, blackout_id: str, start: str, end: str, as_json: bool = JSON) -> None:
    """Schedule a blackout window on a channel."""
    with client() as c:
        show(c.add_window(channel_id, blackout_id, start, end), as_json)


@program.command("schedule-list")
@friendly
def program_schedule_list(channel_id: str, as_json: bool = JSON) -> None:
    """List a channel's scheduled windows."""
    with client() as c:
        show(c.list_windows(channel_id), as_json, ["id", "blackout_id", "start", "end"])


@program.command("schedule-delete")
@friendly
def program_schedule_delete(channel_id: str, window_id: str) -> None:
    """Delete a scheduled window."""
    with client() as c:
        c.delete_window(channel_id, window_id)
    console.print(f"deleted window {window_id}")


@friendly
def playback(channel_id: str, ip: str | None = None, country: str | None = None, zip: str | None = None,
             dma: str | None = None, device: str | None = None, at: str | None = None, as_json: bool = JSON) -> None:
    """What a viewer gets on CHANNEL_ID, and why."""
    with client() as c:
        d = c.playback(channel_id, ip, country, zip, dma, device, at)
    if as_json:
        emit_json(d)
        return
    v = d.viewer
    def shown(value: object) -> str:
        return "-" if value is None else "yes" if value is True else "no" if value is False else str(value)

    console.print(f"viewer  ip {shown(v.ip)}, country {shown(v.country)}, zip {shown(v.zip)}, dma {shown(v.dma)}, "
                  f"device {shown(v.device)}, located {shown(v.located)}", highlight=False)
    console.print(f"program {shown(d.blackout_id)} (blackout ID), source {shown(d.source)}", highlight=False)
    if d.blacked_out:
        console.print(f"[bold red]BLACKED OUT[/bold red] by rule {d.rule} (audience {d.audience or 'all viewers'})"
                      f" -> {d.content.type} {d.content.id} loop={d.content.loop}")
    else:
        console.print(f"[green]allowed[/green]: normal programming of channel {d.content.id}")


@friendly
def playback_url(channel_id: str, ttl: int = typer.Option(600, "--ttl", min=1, help="Seconds the URL stays valid."),
                 ip: str | None = None, country: str | None = None, zip: str | None = None,
                 dma: str | None = None, device: str | None = None,
                 hls: bool = typer.Option(False, "--hls", help="The channel's HLS playlist (/channel/{id}.m3u8) "
                                          "instead of the decision.")) -> None:
    """A signed playback URL for CHANNEL_ID (the vendor's token scheme), for a player that holds no API key."""
    with client() as c:
        sys.stdout.write(c.playback_url(channel_id, ttl, ip=ip, country=country, zip=zip, dma=dma, device=device,
                                        hls=hls) + "\n")


# -- webhooks -------------------------------------------------------------------------------------
WEBHOOK_COLUMNS = ["id", "url", "events", "enabled", "description"]


@webhooks.command("list")
@friendly
def webhooks_list(as_json: bool = JSON) -> None:
    """List your webhooks."""
    with client() as c:
        show(c.list_webhooks(), as_json, WEBHOOK_COLUMNS)


@webhooks.command("show")
@friendly
def webhooks_show(webhook_id: str, as_json: bool = JSON) -> None:
    """Show one webhook and its recent deliveries."""
    with client() as c:
        show(c.get_webhook(webhook_id), as_json)


@webhooks.command("create")
@friendly
def webhooks_create(url: str, events: str = typer.Option("*", help="Comma-separated event names, or *."),
                    groups: str | None = typer.Option(None, help="Only these failover group IDs (comma-separated)."),
                    description: str = "", format: str = FORMAT, routing_key: str | None = ROUTING_KEY,
                    as_json: bool = JSON) -> None:
    """Add a webhook; its secret is printed once (keep it to verify Feedgate-Signature)."""
    with client() as c:
        show(c.create_webhook(url, _split(events) or ["*"], failover_group_ids=_split(groups),
                              description=description, format=format, routing_key=routing_key), as_json)


@webhooks.command("update")
@friendly
def webhooks_update(webhook_id: str, url: str | None = None, events: str | None = None, groups: str | None = None,
                    description: str | None = None,
                    enabled: bool | None = typer.Option(None, "--enable/--disable"),
                    format: str | None = typer.Option(None, help="feedgate, slack or pagerduty."),
                    routing_key: str | None = ROUTING_KEY, as_json: bool = JSON) -> None:
    """Change a webhook: URL, events, groups, format, enabled."""
    with client() as c:
        show(c.update_webhook(webhook_id, url=url, events=_split(events), failover_group_ids=_split(groups),
                              description=description, enabled=enabled, format=format, routing_key=routing_key),
             as_json)


@webhooks.command("delete")
@friendly
def webhooks_delete(webhook_id: str) -> None:
    """Delete a webhook and its deliveries."""
    with client() as c:
        c.delete_webhook(webhook_id)
    console.print(f"deleted webhook {webhook_id}")


@webhooks.command("rotate-secret")
@friendly
def webhooks_rotate(webhook_id: str, as_json: bool = JSON) -> None:
    """A new secret, printed once; the old one stops signing at once."""
    with client() as c:
        show(c.rotate_webhook_secret(webhook_id), as_json)


@webhooks.command("test")
@friendly
def webhooks_test(webhook_id: str, as_json: bool = JSON) -> None:
    """Send a ping through the outbox; `deliveries` shows how it went."""
    with client() as c:
        show(c.test_webhook(webhook_id), as_json)


@webhooks.command("deliveries")
@friendly
def webhooks_deliveries(webhook_id: str, as_json: bool = JSON, utc: bool = UTC_OPTION) -> None:
    """A webhook's deliveries, newest first, with local and relative times."""
    with client() as c:
        found = c.webhook_deliveries(webhook_id)
    if as_json:
        emit_json(found)
        return
    t = Table("id", "event", "state", "attempts", "created", "next attempt", "last status", "last error",
              title="deliveries (newest first)")
    t.columns[0].overflow = "fold"
    for d in found:
        t.add_row(d.id, d.event, d.state, str(d.attempts), human_time(d.created, utc),
                  human_time(d.next_attempt, utc), str(d.last_status or "-"), d.last_error or "-")
    console.print(t)
