"""Which webhook URLs may be called: http(s) only, public addresses only (after DNS
resolution), checked when saved and again before every attempt; redirects not followed."""

import pytest
from django.core.exceptions import ValidationError

from accountability import events
from notifications import webhooks
from notifications.choices import DeliveryStatus
from notifications.models import WebhookAttempt, WebhookDelivery
from tests.factories import FlagFactory, ProgramFactory, WebhookFactory

from .webhook_receiver import Receiver


@pytest.fixture(autouse=True)
def _allow_loopback(settings):
    settings.CXGOV_WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def program(organization):
    return ProgramFactory(organization=organization)


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def make_webhook(organization, url):
    return WebhookFactory(organization=organization, url=url, secret="whsec-test-0123456789abcdef")


REFUSED = [
    "http://10.0.0.1/hook",
    "http://127.0.0.1:8000/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "http://localhost/hook",  # a name resolving to 127.0.0.1
    "http://0.0.0.0/hook",
    "http://192.168.1.20/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://239.1.2.3/hook",  # multicast
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "http://[fe80::1]/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one number
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_loopback_and_link_local_targets_are_refused(settings, url):
    settings.CXGOV_WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(ValidationError) as info:
        webhooks.validate_webhook_url(url)
    assert "webhooks may not target" in info.value.messages[0]


@pytest.mark.parametrize("url", ["ftp://example.com/hook", "file:///etc/passwd", "javascript:alert(1)", "hooks"])
def test_only_http_and_https_are_allowed(url):
    with pytest.raises(ValidationError, match="http:// or https://"):
        webhooks.validate_webhook_url(url)


def test_public_addresses_pass_and_the_setting_allows_loopback(settings):
    settings.CXGOV_WEBHOOK_ALLOW_PRIVATE = False
    webhooks.validate_webhook_url("https://93.184.215.14/hook")
    webhooks.validate_webhook_url("http://[2606:4700::1111]:8443/x")
    settings.CXGOV_WEBHOOK_ALLOW_PRIVATE = True
    webhooks.validate_webhook_url("http://127.0.0.1:9/hook")


def test_unresolvable_names_are_refused():
    with pytest.raises(ValidationError, match="could not be resolved"):
        webhooks.validate_webhook_url("https://no-such-host.invalid/hook")


def test_each_attempt_rechecks_the_address(program, receiver, settings, committed):
    make_webhook(program.organization, receiver.url)  # saved while loopback was allowed
    settings.CXGOV_WEBHOOK_ALLOW_PRIVATE = False

    with committed():
        events.flags_changed(raised=[FlagFactory(program=program)])

    assert receiver.requests == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and attempt.error.startswith("Refused: The address 127.0.0.1 (loopback)")


def test_redirects_are_not_followed(program, committed):
    with Receiver(redirect_to="http://169.254.169.254/latest/meta-data/") as receiver, committed():
        make_webhook(program.organization, receiver.url)
        events.flags_changed(raised=[FlagFactory(program=program)])
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 302
    assert attempt.error == "Redirect to http://169.254.169.254/latest/meta-data/ not followed."
    assert WebhookDelivery.objects.get().status == DeliveryStatus.PENDING
