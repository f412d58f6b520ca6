"""feedgate: control plane for 24/7 live channels (Live Slicer failover and per-viewer blackouts)."""

__version__ = "0.1.0"
