"""The phone-number table: what silver must redact, and what it must leave alone.

Shared by the Python test (tests/unit/test_privacy_edges.py) and the Spark one that checks
the quality suite's Java regex reads PHONE_PATTERN the same way (tests/silver).
"""

PHONES = [
    "+44 (0)20 7946 0958", "+44 20 7946 0958", "+442079460958", "0044 20 7946 0958", "020 7946 0958",
    "(020) 7946 0958", "06 12 34 56 78", "06.12.34.56.78", "06-12-34-56-78", "+33 6 12 34 56 78",
    "(555) 123-4567", "(555)123-4567", "555-123-4567", "555.123.4567", "+1-202-555-0143", "+1 (202) 555-0143",
    "+4915112345678", "0151 12345678", "030-1234567", "+91 98765 43210", "0033 6 12 34 56 78",
    "call me on 06 12 34 56 78 tonight", "tel:+44 20 7946 0958", "phone: 020 7946 0958.",
    # the US country code dialled without +, German slashes, extensions
    "1-800-555-0199", "1 800 555 0199", "1.800.555.0199", "030/1234567", "0151/12345678",
    "212-555-0100x12", "212-555-0100 ext. 12", "(212) 555-0100 #7", "+44 20 7946 0958 ext 3",
]
NOT_PHONES = [
    # ids
    "content-123456789", "vod_000123", "usr_0612345678", "tt0111161", "ord-2026-000123", "sess_00a1b2c3d4e5f6a7",
    "dev_0123456789abcdef", "0612345678",  # a bare digit run is an id, not a phone
    # ISO dates and timestamps
    "2026-11-01", "2026-11-01T10:00:00Z", "2026-11-01T10:00:00.123+01:00", "2026-11-01 10:00:00",
    "20261101T100000Z", "2026-11-01 00:15:00+00:00", "01.02.2026", "01/02/2026 10:30", "01.02.2026 10:30",
    "01/02/2026", "2026/11/01", "issue #1234", "build 20261101 #7", "1-2-3",
    "01:23:45", "1730000000123",
    # version strings
    "2.3.1", "3.0.0-beta.2", "10.0.19045.2965", "iOS 18.0.1", "Android TV 14", "v2.4.0 (build 20261101)",
    # plain counts and numbers
    "42", "1000000", "123456789012", "1,234,567", "0.0012345678", "3.14159265358979", "1e+20", "+15",
    "1920x1080",
    # ULIDs, UUIDs, addresses
    "01HXK3G6Z8V6Q2Y0M4N5P7R9ST", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "550e8400-e29b-41d4-a716-446655440000",
    "0190f3a2-7c1e-7abc-8def-0123456789ab", "12345678-1234-5678-1234-567812345678", "203.0.113.0",
    "2001:db8:abcd::", "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
]

# Pieces the e-mail and phone patterns turn on (address characters, `@` twice as likely,
# domains, digit groups, phone separators): texts glued from them often hold a match or
# nearly do. The guard property tests (tests/unit) and the Java/Python parity test (tests/silver).
PII_PIECES = [
    "a", "b1", "x.cc", ".", "_", "%", "+", "-", "@", "@", " ", "/", ":", "(", ")",
    "0", "00", "44", "020", "555", "7946", "0958", "1234",
    "é", "用户", ".广告", "x", "ext.", "#", "1-",
]
