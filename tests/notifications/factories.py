import factory

from notifications.models import Webhook

from ..programs.factories import OrganizationFactory


class WebhookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Webhook

    organization = factory.SubFactory(OrganizationFactory)
    url = "https://hooks.example.com/cxgov"
    secret = "s3cret-for-tests"
    events = ["flag.raised", "flag.resolved", "risk.level_changed"]
