"""eventlake: a batch lakehouse for product analytics and telemetry events."""

__version__ = "0.1.0"
