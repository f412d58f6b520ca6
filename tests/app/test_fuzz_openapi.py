"""Fuzz every operation from the API's own OpenAPI schema (schemathesis): no input may cause a 5xx.

Requests are really signed, and path IDs are swapped for existing ones half the time so the
fuzzer reaches the validation and business rules behind the 404s.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedgate.auth.signing import signed_params
from tests.support import Api, Backend


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def fuzz_user(fuzzed: Backend) -> Api:
    api = fuzzed.new_user("fuzz")
    channel = api.make_channel("fuzz")
    group = api.make_group("fuzz")
    api.heartbeat("fuzz-slicer", group["id"])
    api.put(f"/failover-groups/{group['id']}/channels", {"channels_ids_to_add": [channel["id"]]})
    audience = api.post("/audiences", {"desc": "a", "country_codes": ["US"]}).json()
    rule = api.post("/rules", {"desc": "r", "audience": audience["id"]}).json()
    blackout = api.post(f"/channels/{channel['id']}/blackouts", {"blackout_id": "B", "rules": [rule["id"]]}).json()
    api.known = {  # type: ignore[attr-defined]
        "channel_id": channel["id"], "group_id": group["id"], "slicer_id": "fuzz-slicer",
        "audience_id": audience["id"], "rule_id": rule["id"], "blackout_id": blackout["id"],
    }
    return api


def test_no_server_errors(fuzz_user: Api, fuzzed: Backend) -> None:
    base_url = fuzzed.server.base_url
    schema = schemathesis.openapi.from_url(base_url + "/openapi.json")
    known = fuzz_user.known  # type: ignore[attr-defined]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40

    for operation in operations:
        @given(case=operation.as_strategy(), swap=st.booleans())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: schemathesis.Case, swap: bool) -> None:
            if case.path_parameters and swap:
                case.path_parameters = {k: known.get(k, v) for k, v in case.path_parameters.items()}
            if case.operation.path.startswith("/api/v4"):
                case.query = {**(case.query or {}), **signed_params(fuzz_user.user_id, fuzz_user.api_key)}
            response = case.call(base_url=base_url)
            where = f"{case.method} {case.formatted_path} {case.query} {case.body!r}"
            assert response.status_code < 500, f"{where}: {response.status_code} {response.text}"
            if response.status_code >= 400:
                body = response.json()
                assert body["@type"] == "Error" and body["status"] == response.status_code and body["description"]

        fuzz()
