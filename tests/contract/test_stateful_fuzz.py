"""Stateful fuzzing across objects: create, patch and delete channels, audiences, rules and blackouts with
values drawn from small pools, so that requests collide with each other (a taken external ID or
`blackout_id`, a reference to something deleted or used). Schemathesis' one-request fuzzing cannot reach
these: they need two objects. No request may answer 5xx; every 4xx names a field or an ID; the collections
never hold two objects with the same external ID, nor a channel two blackouts with the same
`blackout_id`."""

import pytest
import requests
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from feedgate.auth.signing import signed_params
from tests.support import Api, Backend

NAMES = st.sampled_from(["", "a", "b", "c"])  # few values: collisions are likely
BLACKOUT_IDS = st.sampled_from(["B1", "B2", "B3"])


@pytest.fixture(params=["sqlite", "postgresql"])
def fuzzed(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")  # type: ignore[no-any-return]


def test_no_sequence_of_writes_answers_5xx(fuzzed: Backend) -> None:
    http = requests.Session()  # one keep-alive connection, as the vendor's samples use

    class Writes(RuleBasedStateMachine):
        channels = Bundle("channels")
        audiences = Bundle("audiences")
        rules = Bundle("rules")
        blackouts = Bundle("blackouts")

        def __init__(self) -> None:
            super().__init__()
            self.api: Api = fuzzed.new_user("stateful")  # each run starts from an empty account
            self.channel, self.spare = self.api.make_channel("fuzz")["id"], self.api.make_channel("spare")["id"]
            self.rule = self.api.post("/rules", {"desc": "everyone", "all_viewers": True}).json()["id"]

        def send(self, method: str, path: str, body: object = None) -> requests.Response:
            api = self.api
            r = http.request(method, api.base_url + "/api/v4" + path, json=body, timeout=30,
                             params=signed_params(api.user_id, api.api_key))
            where = f"{method} {path} {body!r}"
            assert r.status_code < 500, f"{where}: {r.status_code} {r.text}"
            if r.status_code >= 400:
                error = r.json()
                assert error["@type"] == "Error" and error["status"] == r.status_code, f"{where}: {r.text}"
                assert "'" in error["description"], f"{where}: names nothing: {r.text}"
            return r

        @rule(target=channels, external_id=NAMES)
        def add_channel(self, external_id: str) -> str:
            r = self.send("POST", "/channels", {"desc": "ch", "external_id": external_id})
            return str(r.json()["id"]) if r.status_code == 201 else "missing-channel"

        @rule(channel=channels, external_id=NAMES)
        def patch_channel(self, channel: str, external_id: str) -> None:
            self.send("PATCH", f"/channels/{channel}", {"external_id": external_id})

        @rule(target=audiences, external_id=NAMES)
        def add_audience(self, external_id: str) -> str:
            r = self.send("POST", "/audiences", {"desc": "a", "country_codes": ["US"], "external_id": external_id})
            return str(r.json()["id"]) if r.status_code == 201 else "missing-audience"

        @rule(audience=audiences, external_id=NAMES)
        def patch_audience(self, audience: str, external_id: str) -> None:
            self.send("PATCH", f"/audiences/{audience}", {"external_id": external_id})

        @rule(audience=consumes(audiences))
        def delete_audience(self, audience: str) -> None:
            self.send("DELETE", f"/audiences/{audience}")

        @rule(target=rules, audience=audiences, external_id=NAMES,
              content=st.sampled_from(["slate", "channel", "slicer"]), other=channels)
        def add_rule(self, audience: str, external_id: str, content: str, other: str) -> str:
            body = {"desc": "r", "audience": audience, "external_id": external_id,
                    "alternate_content_type": content, "alternate_content_id": "" if content == "slate" else other}
            r = self.send("POST", "/rules", body)
            return str(r.json()["id"]) if r.status_code == 201 else "missing-rule"

        @rule(rule_id=rules, external_id=NAMES, audience=audiences)
        def patch_rule(self, rule_id: str, external_id: str, audience: str) -> None:
            self.send("PATCH", f"/rules/{rule_id}", {"external_id": external_id, "audience": audience})

        @rule(rule_id=consumes(rules))
        def delete_rule(self, rule_id: str) -> None:
            self.send("DELETE", f"/rules/{rule_id}")

        # Blackouts mostly on one channel, so that their blackout_ids and external IDs meet.
        @rule(target=blackouts, blackout_id=BLACKOUT_IDS, external_id=NAMES, elsewhere=st.booleans(),
              ruled=st.booleans())
        def add_blackout(self, blackout_id: str, external_id: str, elsewhere: bool, ruled: bool) -> str:
            channel = self.spare if elsewhere else self.channel
            r = self.send("POST", f"/channels/{channel}/blackouts", {
                "blackout_id": blackout_id, "external_id": external_id, "rules": [self.rule] if ruled else []})
            return f"{channel}/blackouts/{r.json()['id']}" if r.status_code == 201 else f"{channel}/blackouts/gone"

        @rule(blackout=blackouts, blackout_id=st.none() | BLACKOUT_IDS, external_id=st.none() | NAMES,
              ruled=st.none() | st.booleans())
        def patch_blackout(self, blackout: str, blackout_id: str | None, external_id: str | None,
                           ruled: bool | None) -> None:
            rule_ids = None if ruled is None else [self.rule] if ruled else []
            body = {"blackout_id": blackout_id, "external_id": external_id, "rules": rule_ids}
            self.send("PATCH", f"/channels/{blackout}", {k: v for k, v in body.items() if v is not None})

        @rule(blackout=consumes(blackouts))
        def delete_blackout(self, blackout: str) -> None:
            self.send("DELETE", f"/channels/{blackout}")

        @invariant()
        def external_ids_stay_unique(self) -> None:
            for path in ("/channels", "/audiences", "/rules"):
                items = self.send("GET", path).json()["items"]
                taken = [i["external_id"] for i in items if i.get("external_id")]
                assert len(taken) == len(set(taken)), f"{path}: {taken}"

    Writes.TestCase.settings = settings(max_examples=20, stateful_step_count=15, deadline=None, database=None,
                                        suppress_health_check=list(HealthCheck))
    Writes.TestCase().runTest()
