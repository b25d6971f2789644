"""The browser fixture of test_browser.py, shared with the other browser tests of the dashboard."""

from .test_browser import browser_page  # noqa: F401
