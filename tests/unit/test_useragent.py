"""Source 003's user-agent enrichment: real User-Agent strings, expectations written by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventlake.useragent import describe, ua_fields

pytestmark = pytest.mark.unit

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.4 Mobile/15E148 Safari/604.1")
WINDOWS_CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
TIZEN_TV = ("Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/2.2 "
            "Chrome/63.0.3239.84 TV Safari/537.36")
ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 "
           "Mobile Safari/537.36")


@pytest.mark.parametrize("user_agent, expected", [
    (IPHONE, ("Mobile Safari 17.4", "iOS 17.4", "iPhone")),
    (WINDOWS_CHROME, ("Chrome 124.0", "Windows 10", None)),
    (TIZEN_TV, ("Samsung Internet 2.2", "Tizen 6.0", "Samsung SMART-TV")),
    (ANDROID, ("Chrome Mobile 124.0", "Android 14", "Pixel 8")),
    ("analytics-python/2.4.0", (None, None, None)),  # a server SDK: nothing to say
])
def test_a_user_agent_becomes_browser_os_and_device(user_agent, expected):
    assert describe(user_agent) == expected
    assert ua_fields(user_agent) == dict(zip(("ua_browser", "ua_os", "ua_device"), expected, strict=True))


@given(value=st.none() | st.integers() | st.text(max_size=600) | st.lists(st.text(max_size=5), max_size=3))
def test_any_value_gives_three_fields_or_nulls_never_an_error(value):
    fields = ua_fields(value)
    assert set(fields) == {"ua_browser", "ua_os", "ua_device"}
    assert all(v is None or isinstance(v, str) for v in fields.values())
