"""EnerTrack: open energy monitoring for ESP32 smart meters."""

__version__ = "0.1.0"
