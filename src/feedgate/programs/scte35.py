"""Reading program tags out of SCTE-35 cues (threefive does the parsing; we check the frame first).

threefive prints and raises assorted errors on garbage, so a cue is checked for the
splice_info_section frame and its CRC-32 before threefive sees it.
"""

import base64
import binascii
import contextlib
import re
from dataclasses import dataclass

from threefive import Cue
from threefive.crc import crc32

# Segmentation types (SCTE 35 table 23) that start or end a program for blackout purposes.
STARTS = {0x10: "Program Start", 0x14: "Program Resumption", 0x17: "Program Overlap Start",
          0x19: "Program Start - In Progress", 0x50: "Network Start"}
ENDS = {0x11: "Program End", 0x12: "Program Early Termination", 0x13: "Program Breakaway",
        0x51: "Network End"}
HEX_RE = re.compile(r"^(0x)?[0-9a-fA-F]+$")


class CueError(ValueError):
    """Why a cue cannot be used; the text goes into the 400 description."""


@dataclass(frozen=True)
class CueTag:
    starts: bool  # a program starts (True) or ends (False)
    blackout_id: str | None
    segmentation_type: str
    command: str


def cue_bytes(cue: str) -> bytes:
    text = cue.strip()
    if HEX_RE.match(text) and (text.lower().startswith("0x") or len(text) % 2 == 0):
        data = bytes.fromhex(text[2:] if text.lower().startswith("0x") else text)
    else:
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise CueError("it is neither base64 nor hex") from None
    if len(data) < 17 or data[0] != 0xFC:
        raise CueError("it is not a splice_info_section (table_id 0xFC)")
    if ((data[1] & 0x0F) << 8 | data[2]) != len(data) - 3:
        raise CueError("its section_length does not match its size")
    if crc32(data) != 0:
        raise CueError("its CRC-32 does not match")
    return data


def upid_text(value: object) -> str | None:
    if isinstance(value, str):
        text = value
    elif isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
    elif isinstance(value, dict):  # e.g. MPU: {"format_identifier": ..., "private_data": ...}
        text = str(value.get("private_data") or "")
    else:
        return None
    text = text.strip().strip("\x00")
    if text.startswith("0x"):
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            text = bytes.fromhex(text[2:]).decode("utf-8")
    return text or None


@dataclass(frozen=True)
class Decoded:
    command: str
    command_type: int | None
    descriptors: list[tuple[int, str | None]]  # (segmentation_type_id, the UPID's text)


def decode_cue(cue: str) -> Decoded:
    parsed = Cue(cue_bytes(cue))
    try:
        parsed.decode()
    except Exception as exc:  # threefive raises whatever it hits
        raise CueError(f"threefive could not decode it ({type(exc).__name__})") from None
    found = [(kind, upid_text(getattr(d, "segmentation_upid", None))) for d in parsed.descriptors
             if isinstance(kind := getattr(d, "segmentation_type_id", None), int)]
    return Decoded(getattr(parsed.command, "name", None) or "unknown", getattr(parsed.command, "command_type", None),
                   found)


def read_cue(cue: str | Decoded) -> CueTag:
    decoded = decode_cue(cue) if isinstance(cue, str) else cue
    command = decoded.command
    if decoded.command_type not in (5, 6):  # splice_insert, time_signal
        raise CueError(f"its command is {command}; only splice_insert and time_signal tag programs")
    for kind, upid in decoded.descriptors:
        if kind in STARTS:
            if upid is None:
                raise CueError(f"its {STARTS[kind]} descriptor has no UPID text to use as blackout ID")
            return CueTag(True, upid, STARTS[kind], command)
        if kind in ENDS:
            return CueTag(False, None, ENDS[kind], command)
    raise CueError("it has no program or network start/end segmentation descriptor")
