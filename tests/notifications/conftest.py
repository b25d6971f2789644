import pytest


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed(): ...` runs the block as the change's transaction, then what its
    commit triggers (the send tasks, eager): the events are sent inside the transaction and
    the outbox is sent after it, as in production."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
