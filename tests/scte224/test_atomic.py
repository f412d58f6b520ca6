"""All or nothing under a concurrent reader: while documents that change an audience and its rule together are
imported again and again, decisions read in parallel only ever see one whole document or the other."""

import threading

from tests.support import Api, decide
from tests.support.rights import NS_2018, PREFIXES, post


def rights(country: str, content: str) -> str:
    return f"""<Results {NS_2018} {PREFIXES}>
  <Audience id="aud/home"><audience:ISO3166>{country}</audience:ISO3166></Audience>
  <ViewingPolicy id="vp/home"><Audience xlink:href="aud/home"/>
    <action:Content>{content}</action:Content></ViewingPolicy>
  <Policy id="policy/match"><ViewingPolicy xlink:href="vp/home"/></Policy>
  <Media id="media/sport" source="SPORT">
    <MediaPoint id="point/match" matchTime="2031-05-01T18:00:00Z">
      <Apply duration="PT2H"><Policy xlink:href="policy/match"/></Apply></MediaPoint>
  </Media>
</Results>"""


# Document A: US viewers get slate. Document B: CA viewers get the asset "alt". A half-applied import (the
# audience moved to CA but the rule still slate, or the rule moved to the asset but the audience still US)
# would show a CA viewer slate, or a US viewer the asset: neither whole document does that.
A = rights("US", "urn:scte:224:action:blackout")
B = rights("CA", "urn:feedgate:asset:alt")
WHOLE = {"US": {"slate", "channel"}, "CA": {"channel", "asset"}}


def test_decisions_never_see_half_a_document(api: Api) -> None:
    ch = api.make_channel(external_id="SPORT")
    assert post(api, A).status_code == 200
    assert api.put(f"/channels/{ch['id']}/program", {"blackout_id": "policy/match"}).status_code == 200
    assert decide(api, ch["id"], repl_cbcc="US")["content"]["type"] == "slate"
    seen: dict[str, set[str]] = {"US": set(), "CA": set()}
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            for country in ("US", "CA"):
                seen[country].add(decide(api, ch["id"], repl_cbcc=country)["content"]["type"])

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for i in range(12):
            r = post(api, B if i % 2 == 0 else A)
            assert r.status_code == 200 and r.json()["changed"], r.text
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert seen["US"] <= WHOLE["US"] and seen["CA"] <= WHOLE["CA"], seen
    # Both documents were seen by the readers (the test reads through the changes, not around them).
    assert seen["US"] == WHOLE["US"] and seen["CA"] == WHOLE["CA"], seen
