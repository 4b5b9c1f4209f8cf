"""002's Kafka feed: normalise its records into envelopes and land them (docs/kafka.md)."""
