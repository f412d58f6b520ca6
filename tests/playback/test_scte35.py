"""SCTE-35 cues: real bytes built with threefive's encoder plus a published example cue."""

import base64

import pytest
from threefive import Cue, SegmentationDescriptor, SpliceInsert, TimeSignal

from feedgate.programs.scte35 import CueError, read_cue


def build_cue(type_id: int, upid: str, command: str = "time_signal") -> Cue:
    cue = Cue()
    if command == "time_signal":
        cue.command = TimeSignal()
        cue.command.time_specified_flag = True
        cue.command.pts_time = 10.0
    else:
        cue.command = SpliceInsert()
        cue.command.splice_event_id = 7
        cue.command.out_of_network_indicator = True
        cue.command.program_splice_flag = True
        cue.command.splice_immediate_flag = True
        cue.command.duration_flag = False
        cue.command.unique_program_id = 1
    d = SegmentationDescriptor()
    d.segmentation_event_cancel_indicator = False
    d.segmentation_event_id = "0x1"
    d.segmentation_event_id_compliance_indicator = True
    d.program_segmentation_flag = True
    d.segmentation_duration_flag = False
    d.delivery_not_restricted_flag = True
    d.segmentation_type_id = type_id
    d.segmentation_upid_type = 0x09
    d.segmentation_upid = upid
    d.segmentation_upid_length = len(upid)
    d.segment_num = 0
    d.segments_expected = 0
    cue.descriptors.append(d)
    return cue


def start_cue(upid: str = "BNA", command: str = "time_signal") -> str:
    return str(build_cue(0x10, upid, command).encode())


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
