"""Test encoders for `feedgate demo --video`: ffmpeg making live HLS of a test picture, and a small
HTTP origin serving it, so the console's watch page shows a real failover with no encoder at hand."""

import http.server
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any


def hls_command(ffmpeg: str, out: Path, picture: str = "testsrc2", renditions: int = 1, segment_s: int = 1,
                size: str = "320x180", vod_seconds: int | None = None) -> list[str]:
    """ffmpeg encoding a lavfi test `picture` with a tone to HLS under `out`: index.m3u8 (multivariant) and
    r<N>.m3u8, segments of `segment_s` seconds. Live (real time, with PROGRAM-DATE-TIME, as a Live Slicer
    would) unless `vod_seconds` asks for a VOD asset of that length."""
    maps: list[str] = []
    for _ in range(renditions):
        maps += ["-map", "0:v", "-map", "1:a"]
    fps = 15
    source = f"{picture}{':' if '=' in picture else '='}size={size}:rate={fps}"
    if vod_seconds is None:
        timing = ["-re", "-f", "lavfi", "-i", source]
        kind = ["-hls_list_size", "12", "-hls_flags", "delete_segments+program_date_time+independent_segments",
                "-hls_delete_threshold", "60"]
    else:
        timing = ["-f", "lavfi", "-i", source]
        kind = ["-t", str(vod_seconds), "-hls_playlist_type", "vod"]  # -t here: an output option, for both inputs
    return [ffmpeg, "-hide_banner", "-loglevel", "error", *timing,
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", *maps,
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
            "-profile:v", "baseline", "-g", str(fps * segment_s), "-keyint_min", str(fps * segment_s),
            "-sc_threshold", "0", "-b:v", "200k", "-c:a", "aac", "-b:a", "48k", "-ac", "2",
            "-f", "hls", "-hls_time", str(segment_s), *kind, "-master_pl_name", "index.m3u8",
            "-var_stream_map", " ".join(f"v:{i},a:{i}" for i in range(renditions)),
            "-hls_segment_filename", str(out / "r%v_%05d.ts"), str(out / "r%v.m3u8")]


class Origin:
    """A directory served over HTTP from a thread (CORS open, so the console's hls.js may fetch segments)."""

    def __init__(self, root: Path, port: int = 0) -> None:
        self.root = root
        self.requests: list[str] = []
        origin = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(origin.root), **kwargs)

            def do_GET(self) -> None:
                origin.requests.append(self.path)
                super().do_GET()

            def end_headers(self) -> None:
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Cache-Control", "no-cache")
                super().end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True, name="origin").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()


def start_encoders(root: Path, names: list[str]) -> list[subprocess.Popen[bytes]]:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg is not installed: `apt-get install ffmpeg` (demo --video encodes test pictures)")
    pictures = ["testsrc2", "smptebars", "rgbtestsrc", "mandelbrot"]
    started = []
    for i, name in enumerate(names):
        out = root / name
        out.mkdir(parents=True, exist_ok=True)
        started.append(subprocess.Popen(hls_command(ffmpeg, out, pictures[i % len(pictures)]),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return started
