"""Redis round trips of a submit, counted on the real connection (either database).

A submit asks Redis whether it is up before it saves (refusing with 503 if not), then
enqueues the entry's three checks. RQ's `enqueue` makes two round trips a job; the checks
go together in one (`tasks.checks.enqueue_checks`)."""

import contextlib

from rq.job import Job

from tasks.queue import redis_connection
from tests.factories import COMPLETE, add_evidence, new_entry, registered_unit


@contextlib.contextmanager
def redis_exchanges():
    """Yield the list of command batches sent on the app's Redis connections while inside
    (a pipeline is one batch: one round trip)."""
    pool = redis_connection().connection_pool
    sent: list[bytes] = []
    connection_class = pool.connection_class
    real = connection_class.send_packed_command

    def send(self, command, check_health=True):
        chunks = command if isinstance(command, list) else [command]
        sent.append(b"".join(bytes(c) for c in chunks)[:60])
        return real(self, command, check_health)

    connection_class.send_packed_command = send
    try:
        yield sent
    finally:
        connection_class.send_packed_command = real


def test_a_submit_makes_two_redis_round_trips(client, open_window):
    caller = registered_unit(client)
    warm, entry_id = (new_entry(caller, **COMPLETE)["id"] for _ in range(2))
    for draft in (warm, entry_id):
        add_evidence(draft)
    caller.post(f"/api/v1/entries/{warm}/submit")  # a warm worker: connected, versions known
    with redis_exchanges() as sent:
        response = caller.post(f"/api/v1/entries/{entry_id}/submit")
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
