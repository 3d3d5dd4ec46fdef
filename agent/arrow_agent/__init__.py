"""ARROW inventory agent: collects a device's hardware facts and submits them (stdlib only)."""

__version__ = "0.1.0"
