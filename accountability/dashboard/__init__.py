"""The executive accountability dashboard: selectors, server-side SVG charts, views.

Read-only. The same selectors feed the HTML pages and `GET /api/v1/dashboard/`, so the
numbers an executive sees are the numbers the API returns.
"""
