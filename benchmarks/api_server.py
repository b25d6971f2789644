"""Settings of the API benchmark's gunicorn (benchmark only, never deployed).

The project's settings, with benchmarks/api_urls.py as the URLconf: the project's URLs
plus baseline views of the same rows as a page of the API.
"""

from cxgov.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.api_urls"
