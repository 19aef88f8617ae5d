"""Telemetry: the Reading type and the pure parsing/validation of MQTT payloads."""
