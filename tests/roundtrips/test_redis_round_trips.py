"""Redis round trips of a submit, counted on the real connection (either database).

A submit asks Redis whether it is up before it saves (refusing with 503 if not), then
enqueues the entry's three checks. RQ's `enqueue` makes two round trips a job; the checks
go together in one (`tasks.checks.enqueue_checks`)."""

import threading

import pytest
from rq.job import Job

from tasks.queue import redis_connection
from tests.factories import COMPLETE, add_evidence, new_entry, registered_unit


@pytest.fixture
def redis_exchanges(monkeypatch):
    """The command batches this thread sends to Redis from now on (a pipeline is one batch:
    one round trip); other threads of the process (the live server, the scan batcher) are
    not counted."""
    from redis.connection import AbstractConnection

    sent: list[bytes] = []
    real = AbstractConnection.send_packed_command
    me = threading.get_ident()

    def send(self, command, check_health=True):
        if threading.get_ident() == me:
            chunks = command if isinstance(command, list) else [command]
            sent.append(b"".join(bytes(c) for c in chunks)[:60])
        return real(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", send)
    return sent


def test_a_submit_makes_two_redis_round_trips(client, open_window, redis_exchanges):
    caller = registered_unit(client)
    warm, entry_id = (new_entry(caller, **COMPLETE)["id"] for _ in range(2))
    for draft in (warm, entry_id):
        add_evidence(draft)
    caller.post(f"/api/v1/entries/{warm}/submit")  # a warm worker: connected, versions known
    redis_exchanges.clear()
    response = caller.post(f"/api/v1/entries/{entry_id}/submit")
    sent = list(redis_exchanges)
    assert response.status_code == 200, response.get_json()
    assert len(sent) == 2, sent  # the PING before saving, then the three checks at once
    jobs = Job.fetch_many(
        [f"check-text-{entry_id}-v1", f"check-media-{entry_id}", f"duplicates-{entry_id}"],
        connection=redis_connection(),
    )
    assert [job.func_name for job in jobs] == [
        "tasks.checks.check_entry_text",
        "tasks.checks.check_entry_media",
        "tasks.checks.find_duplicates_of",
    ]
    text = jobs[0]
    assert (text.retries_left, text.retry_intervals, text.timeout) == (
        5,
        [10, 30, 60, 300, 900],
        300,
    )
    assert text.failure_callback.__name__ == "mark_check_failed"
