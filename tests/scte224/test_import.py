"""SCTE 224 documents imported over real HTTP on both databases: every mapped element, refusals, the dry run,
idempotence, removal of what left the feed, signal points matching real SCTE-35 bytes, hostile XML."""

from tests.support import Api, assert_error, blackout_setup, build_cue
from tests.support.rights import NS_2015, NS_2018, NS_2020, by_external, document, post


class TestImport:
    def test_every_mapped_element(self, api: Api) -> None:
        ch = api.make_channel(external_id="NEWS")
        r = post(api, document("NEWS"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["changed"] and body["generation"] == "2018" and body["summary"]["refused"] == 0
        assert body["media"] == [{"media": "media/news", "channel": ch["id"]}]
        auds = by_external(api, "/audiences")
        assert auds["aud/us"]["country_codes"] == ["US"] and auds["aud/us"]["match_type"] == "ANY"
        assert auds["aud/devices"]["type"] == "Multiple" and auds["aud/devices"]["match_type"] == "ALL"
        assert auds["aud/devices"]["sub_audiences"] == [auds["aud/us"]["id"], auds["aud/phones"]["id"]]
        assert auds["aud/east"]["zip_codes"] == ["10001"] and auds["aud/east"]["dma_codes"] == ["501"]
        rules = by_external(api, "/rules")
        assert rules["vp/us"]["audience"] == auds["aud/us"]["id"]
        assert rules["vp/us"]["alternate_content_type"] == "slate"
        blackouts = api.get(f"/channels/{ch['id']}/blackouts").json()["items"]
        assert [(b["blackout_id"], b["rules"]) for b in blackouts] == \
            [("policy/game", [rules["vp/us"]["id"], rules["vp/east"]["id"]])]
        windows = api.get(f"/channels/{ch['id']}/schedule").json()["items"]
        assert [(w["blackout_id"], w["start"], w["end"]) for w in windows] == \
            [("policy/game", "2030-01-01T20:00:00.000Z", "2030-01-01T23:00:00.000Z")]
        # The signal point: a real cue with the asserted type and UPID starts the policy's blackout.
        cue = str(build_cue(0x10, "GAME7").encode())
        tag = api.post(f"/channels/{ch['id']}/scte35", {"cue": cue}).json()
        assert (tag["blackout_id"], tag["source"]) == ("policy/game", "scte224")
        other = api.post(f"/channels/{ch['id']}/scte35", {"cue": str(build_cue(0x10, "OTHER").encode())}).json()
        assert (other["blackout_id"], other["source"]) == ("OTHER", "scte35")

    def test_same_document_twice_changes_nothing(self, api: Api) -> None:
        api.make_channel(external_id="N2")
        assert post(api, document("N2")).status_code == 200
        before = {**by_external(api, "/audiences"), **by_external(api, "/rules")}
        again = post(api, document("N2")).json()
        assert not again["changed"] and again["diff"] == []
        assert again["summary"]["created"] == again["summary"]["updated"] == 0
        after = {**by_external(api, "/audiences"), **by_external(api, "/rules")}
        assert {k: v["updated"] for k, v in after.items()} == {k: v["updated"] for k, v in before.items()}

    def test_dry_run_answers_the_diff_and_changes_nothing(self, api: Api) -> None:
        ch = api.make_channel(external_id="N3")
        r = post(api, document("N3"), dry_run="1").json()
        assert r["dry_run"] and r["summary"]["created"] == len([c for c in r["diff"] if c["action"] == "created"])
        kinds = {(c["kind"], c["external_id"]) for c in r["diff"]}
        assert ("audience", "aud/us") in kinds and ("blackout", "policy/game") in kinds
        assert ("window", "point/game") in kinds and ("cue_match", "point/signal") in kinds
        assert by_external(api, "/audiences") == {} and by_external(api, "/rules") == {}
        assert api.get(f"/channels/{ch['id']}/blackouts").json()["total_items"] == 0
        assert api.get("/scte224/imports").json()["total_items"] == 0

    def test_removal_of_what_left_the_feed(self, api: Api) -> None:
        ch = api.make_channel(external_id="N4")
        assert post(api, document("N4")).status_code == 200
        r = post(api, document("N4", with_second=False)).json()
        removed = {(c["kind"], c["external_id"]) for c in r["diff"] if c["action"] == "removed"}
        assert removed == {("rule", "vp/east"), ("audience", "aud/east")}
        assert "aud/east" not in by_external(api, "/audiences")
        blackout = api.get(f"/channels/{ch['id']}/blackouts").json()["items"][0]
        assert len(blackout["rules"]) == 1
        imports = api.get("/scte224/imports").json()
        assert imports["total_items"] == 2 and imports["items"][0]["summary"]["removed"] == 2

    def test_removal_refused_while_used_elsewhere(self, api: Api) -> None:
        ch = api.make_channel(external_id="N5")
        assert post(api, document("N5")).status_code == 200
        east = by_external(api, "/rules")["vp/east"]
        api.post(f"/channels/{ch['id']}/blackouts", {"blackout_id": "hand", "rules": [east["id"]]})
        assert_error(post(api, document("N5", with_second=False)), 409, "vp/east", "blackout")
        assert "vp/east" in by_external(api, "/rules")  # nothing half-applied

    def test_three_schema_generations_read_to_the_same_state(self, api: Api) -> None:
        states = []
        for gen, ns in (("2015", NS_2015), ("2018", NS_2018), ("2020", NS_2020)):
            ch = api.make_channel(external_id=f"GEN{gen}")
            body = post(api, document(f"GEN{gen}", ns=ns), channel_map=f"media/news={ch['id']}").json()
            assert body["generation"] == gen and body["summary"]["refused"] == 0, body
            blackouts = api.get(f"/channels/{ch['id']}/blackouts").json()["items"]
            windows = api.get(f"/channels/{ch['id']}/schedule").json()["items"]
            states.append(([(b["blackout_id"], len(b["rules"])) for b in blackouts],
                           [(w["start"], w["end"]) for w in windows]))
        assert states[0] == states[1] == states[2] == ([("policy/game", 2)],
                                                       [("2030-01-01T20:00:00.000Z", "2030-01-01T23:00:00.000Z")])

    def test_refusals_name_the_element(self, api: Api) -> None:
        api.make_channel(external_id="N6")
        radius = "<audience:LatLongRadius>39.77 -104.98 10000</audience:LatLongRadius>"
        err = assert_error(post(api, document("N6", extra_audience=radius)), 400, "audience:LatLongRadius",
                           "aud/us")
        assert "nothing was applied" in err["description"]
        assert by_external(api, "/audiences") == {}
        dry = post(api, document("N6", extra_audience=radius), dry_run="1").json()
        assert [c["element"] for c in dry["diff"] if c["action"] == "refused"] == ["audience:LatLongRadius"]

    def test_unmapped_media_is_refused(self, api: Api) -> None:
        assert_error(post(api, document("NOWHERE")), 400, "media/news", "channel_map")
        ch = api.make_channel()
        body = post(api, document("NOWHERE"), channel_map=f"media/news={ch['id']}").json()
        assert body["media"] == [{"media": "media/news", "channel": ch["id"]}]


    def test_export_reads_back_to_the_same_state(self, api: Api) -> None:
        ch = api.make_channel(external_id="N7")
        assert post(api, document("N7")).status_code == 200
        exported = api.get(f"/scte224/media/{ch['id']}")
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/xml")
        assert b"policy/game" in exported.content and b"GAME7" in exported.content
        again = post(api, exported.content).json()
        assert again["summary"]["refused"] == 0 and not again["changed"], again["diff"]
        # and into a fresh account (by external_id, nothing there yet) it makes the same objects
        ch2 = api.make_channel()
        dry = post(api, exported.content, dry_run="1", channel_map=f"N7={ch2['id']}").json()
        assert {(c["kind"], c["action"]) for c in dry["diff"]} == {("blackout", "created"), ("window", "created"),
                                                                   ("cue_match", "created")}

    def test_a_hand_made_blackout_without_windows_round_trips(self, api: Api, other: Api) -> None:
        ch, _, _ = blackout_setup(api)  # made through the API: started by program tags only
        exported = api.get(f"/scte224/media/{ch['id']}").content
        assert b"fg:Policy" in exported
        again = post(api, exported).json()
        assert again["summary"]["refused"] == 0 and not again["changed"], again["diff"]
        theirs = other.make_channel()
        made = post(other, exported, channel_map=f"{ch['id']}={theirs['id']}").json()
        assert made["summary"]["refused"] == 0, made["diff"]
        blackouts = other.get(f"/channels/{theirs['id']}/blackouts").json()["items"]
        assert [(b["blackout_id"], len(b["rules"])) for b in blackouts] == [("BNA", 2)]
        rules = {r["id"]: r for r in other.get("/rules").json()["items"]}
        assert [rules[r]["alternate_content_type"] for r in blackouts[0]["rules"]] == ["asset", "slate"]


class TestHostileXml:
    def test_entities_and_dtds_refused(self, api: Api) -> None:
        laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
                  f'<Results {NS_2018}><Audience id="&lol2;"/></Results>')
        assert_error(post(api, laughs), 400, "DTD")
        external = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                    f'<Results {NS_2018}><Audience id="&x;"/></Results>')
        assert_error(post(api, external), 400, "DTD")

    def test_malformed_and_wrong_namespace(self, api: Api) -> None:
        assert_error(post(api, f"<Results {NS_2018}>\n<Audience id='a'>\n</Results>"), 400, "line 3")
        assert_error(post(api, '<Results xmlns="urn:other"/>'), 400, "namespace", "Results")
        assert_error(post(api, b"\xff\xfe<"), 400)
