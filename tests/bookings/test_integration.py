"""A booking's confirmation travels the real way: commit, Redis, a Celery worker, an SMTP server."""

from __future__ import annotations

import pytest

from einstein.config import default_config
from tests.support.booking import book

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
def app_config(redis_server, tmp_path):
    """The app under test publishes to the real Redis."""
    return {"CELERY": default_config(tmp_path, environ={"REDIS_URL": redis_server.url})["CELERY"]}


def test_the_confirmation_arrives_through_redis_and_a_worker(
    app, database, client, make_user, activity, redis_server, smtp, start_celery
) -> None:
    redis_server.flush()
    start_celery(database, redis_server.url, smtp.port)
    person = make_user(locale="uk", name="Olena Kovalenko")
    client.sign_in(person)
    assert book(client, activity).status_code == 303
    [message] = smtp.wait_for_count(1, timeout=30)
    assert message["To"] == person.email
    assert message["Content-Language"] == "uk"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert "BEGIN:VEVENT" in str(attachment.get_content())
    assert "Olena Kovalenko" in message.get_body(preferencelist=("plain",)).get_content()
