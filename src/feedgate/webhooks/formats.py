"""What a webhook's receiver gets, by its `format`: feedgate's own envelope, a Slack incoming-webhook message,
or a PagerDuty Events v2 event. Plain functions over the event's data; no I/O.

PagerDuty receives problems only, each with a stable `dedup_key` per group and problem, and a `resolve` when
the group recovers from it:

- `no_candidate` triggers `feedgate/<group>/no_candidate` (critical); any switch that puts a slicer on air
  (failover, failback, activated) resolves it;
- `failover` away from a slicer triggers `feedgate/<group>/failed_over` (warning); `failback` or an
  operator's `activated` resolves it (a group's first pick triggers nothing);
- `unhealthy` triggers `feedgate/<group>/unhealthy/<slicer>` (warning); that slicer's `healthy` resolves it.

Other events (joined, config, ...) are not problems: a PagerDuty webhook is sent nothing for them.
"""

from typing import Any, Literal

FORMATS = ("feedgate", "slack", "pagerduty")
Format = Literal["feedgate", "slack", "pagerduty"]
ICONS = {"failover": ":arrows_counterclockwise:", "failback": ":leftwards_arrow_with_hook:",
         "no_candidate": ":rotating_light:", "unhealthy": ":warning:", "healthy": ":white_check_mark:"}
ON_AIR = ("failover", "failback", "activated")


def summary(event: str, data: dict[str, Any]) -> str:
    """One line an on-call engineer reads first: group, what happened, to which slicer, why."""
    kind = data.get("kind") or event.rpartition(".")[2]
    group = data.get("failover_group_name") or data.get("failover_group_id") or "feedgate"
    if kind in ON_AIR and data.get("to_slicer_id"):
        what = f"{kind} to {data['to_slicer_id']}"
    elif kind == "import_failed":
        group, what = f"rights feed {data.get('url', '')}", f"import failed: {data.get('error', '')}"
    elif kind in ("unhealthy", "healthy") and data.get("from_slicer_id"):
        what = f"{data['from_slicer_id']} {kind}"
    else:
        what = kind.replace("_", " ")
    reason = data.get("reason")
    return f"{group}: {what}" + (f" ({reason})" if reason else "")


def slack(delivery_id: str, event: str, data: dict[str, Any]) -> dict[str, Any]:
    kind = str(data.get("kind") or event.rpartition(".")[2])
    line = f"{ICONS.get(kind, ':information_source:')} {summary(event, data)}"
    context = f"feedgate · {event} · group `{data.get('failover_group_id', '-')}` · delivery `{delivery_id}`"
    return {"text": line, "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": line}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]}]}


def pagerduty_actions(event: str, data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(event_action, dedup_key, severity) for this event; [] when it is no problem and resolves none."""
    kind = data.get("kind") or event.rpartition(".")[2]
    group = f"feedgate/{data.get('failover_group_id', '-')}"
    if kind in ("import_failed", "imported") and data.get("feed_id"):  # a rights feed failing, then back
        return [("trigger" if kind == "import_failed" else "resolve", f"feedgate/scte224/{data['feed_id']}",
                 "warning" if kind == "import_failed" else "info")]
    if kind == "no_candidate":
        return [("trigger", f"{group}/no_candidate", "critical")]
    if kind == "failover" and not data.get("from_slicer_id"):  # a first pick: something is on air, no problem
        return [("resolve", f"{group}/no_candidate", "info")]
    if kind == "failover":
        return [("resolve", f"{group}/no_candidate", "info"), ("trigger", f"{group}/failed_over", "warning")]
    if kind in ("failback", "activated"):  # back on the preferred slicer, or an operator's choice
        return [("resolve", f"{group}/no_candidate", "info"), ("resolve", f"{group}/failed_over", "info")]
    if kind == "unhealthy" and data.get("from_slicer_id"):
        return [("trigger", f"{group}/unhealthy/{data['from_slicer_id']}", "warning")]
    if kind == "healthy" and data.get("from_slicer_id"):
        return [("resolve", f"{group}/unhealthy/{data['from_slicer_id']}", "info")]
    return []


def pagerduty(routing_key: str, action: str, dedup_key: str, severity: str, event: str, data: dict[str, Any],
              created: str) -> dict[str, Any]:
    body: dict[str, Any] = {"routing_key": routing_key, "event_action": action, "dedup_key": dedup_key}
    if action == "trigger":
        body["payload"] = {"summary": summary(event, data)[:1024], "source": "feedgate", "severity": severity,
                           "timestamp": created, "component": str(data.get("failover_group_name") or ""),
                           "group": str(data.get("failover_group_id") or ""), "class": event,
                           "custom_details": data}
    return body
