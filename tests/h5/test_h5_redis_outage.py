"""H5 submit with Redis down: refused with 503 before anything is saved, like the API's (the
H5 session itself lives in Redis); once Redis is back the submit goes through and its
checks run."""

from models import Entry
from tests.factories import COMPLETE, add_evidence
from tests.h5.test_h5_journey import form_of, new_entry, profile

pytest_plugins = ("tests.hostile.redis_outage",)  # own_redis


def test_submit_with_redis_down_is_refused_then_goes_through(phone, own_redis, run_jobs):
    phone.sign_in("o-unit")
    assert profile(phone).status_code == 303
    entry = new_entry(phone)
    add_evidence(entry.id)
    own_redis.kill()
    refused = phone.post(f"/h5/entries/{entry.id}", {**form_of(COMPLETE), "action": "submit"})
    assert refused.status_code == 503
    kept = Entry.get_by_id(entry.id)
    assert (kept.status, kept.background) == ("draft", "")  # nothing half-done

    own_redis.start()  # empty: the H5 session is gone with it, so the unit signs in again
    phone.sign_in("o-unit")
    done = phone.post(f"/h5/entries/{entry.id}", {**form_of(COMPLETE), "action": "submit"})
    assert done.status_code == 303, done.get_data(as_text=True)
    assert Entry.get_by_id(entry.id).status == "submitted"
    run_jobs()
    assert Entry.get_by_id(entry.id).content_check != "pending"  # its checks were enqueued
