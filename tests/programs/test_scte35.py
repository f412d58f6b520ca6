"""SCTE-35 cues: real bytes built with threefive's encoder plus a published example cue."""

import base64

import pytest

from feedgate.programs.scte35 import CueError, read_cue
from tests.support import build_cue, start_cue


class TestReadCue:
    def test_program_start_time_signal_base64(self) -> None:
        tag = read_cue(start_cue("BNA"))
        assert (tag.starts, tag.blackout_id, tag.segmentation_type) == (True, "BNA", "Program Start")

    def test_program_start_as_hex(self) -> None:
        data = base64.b64decode(start_cue("SPORTS-7"))
        assert read_cue("0x" + data.hex()).blackout_id == "SPORTS-7"
        assert read_cue(data.hex()).blackout_id == "SPORTS-7"

    def test_splice_insert(self) -> None:
        assert read_cue(start_cue("LIVE", "splice_insert")).blackout_id == "LIVE"

    def test_program_end_and_network_end(self) -> None:
        assert read_cue(str(build_cue(0x11, "BNA").encode())).starts is False
        assert read_cue(str(build_cue(0x51, "BNA").encode())).starts is False

    def test_published_example_without_program_descriptor_is_refused(self) -> None:
        # SCTE 35 (2019) 14.3: time_signal with a Provider Placement Opportunity Start (0x34).
        with pytest.raises(CueError, match="no program or network"):
            read_cue("/DA0AAAAAAAA///wBQb+cr0AUAAeAhxDVUVJSAAAjn/PAAGlmbAICAAAAAAsoKGKNAIAmsnRfg==")

    @pytest.mark.parametrize("cue, why", [
        ("not a cue!", "neither base64 nor hex"), ("AAAA", "table_id"),
        ("0xFC302000", "table_id"),
    ])
    def test_malformed(self, cue: str, why: str) -> None:
        with pytest.raises(CueError, match=why):
            read_cue(cue)

    def test_corrupted_crc(self) -> None:
        data = bytearray(base64.b64decode(start_cue()))
        data[-6] ^= 0xFF
        with pytest.raises(CueError, match="CRC"):
            read_cue(base64.b64encode(bytes(data)).decode())
