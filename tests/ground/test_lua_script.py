"""`tasks.queue.LuaScript`: Redis' own answers over the connection the process holds, through
a killed connection, a flushed script cache, threads, a fork and a new shared client."""

import os
import socket
import threading

import pytest
from redis import Redis
from redis import exceptions as redis_errors

import tasks.queue
from tasks.queue import LuaScript, redis_connection

# KEYS[1] a counter. ARGV[1] a tag. Answers the tag and the counter after one more: a caller
# that got another caller's answer would see a tag not its own.
ECHO_COUNT = LuaScript("return {ARGV[1], redis.call('INCR', KEYS[1])}")


def call(tag: str, key: str = "lua:test") -> tuple[str, int]:
    echoed, count = ECHO_COUNT(keys=[key], args=[tag])
    return echoed.decode(), count


def another_client() -> Redis:
    """A client of the same Redis and database, with a pool of its own."""
    pool = redis_connection().connection_pool
    return Redis(connection_pool=type(pool)(**pool.connection_kwargs))


@pytest.fixture
def checkouts(monkeypatch):
    """How many connections the shared client's pool hands out from now on."""
    pool, taken = redis_connection().connection_pool, []
    original = pool.get_connection

    def counted(*args, **kwargs):
        taken.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(pool, "get_connection", counted)
    return taken


def test_answers_are_redis_own():
    assert [call(f"t{n}") for n in range(3)] == [("t0", 1), ("t1", 2), ("t2", 3)]
    assert redis_connection().get("lua:test") == b"3"


def test_a_script_takes_no_connection_from_the_pool_once_one_is_held(checkouts):
    call("first")
    held = len(checkouts)
    for n in range(50):
        assert call(f"t{n}") == (f"t{n}", n + 2)
    assert held <= 1 and len(checkouts) == held


def script_connections() -> list[int]:
    """The server's ids for this database's connections whose last command ran a script."""
    db = str(redis_connection().connection_pool.connection_kwargs["db"])
    clients = redis_connection().client_list()
    return [c["id"] for c in clients if (c["cmd"], c["db"]) == ("evalsha", db)]


def test_a_connection_the_server_killed_is_reconnected():
    call("before")
    held = script_connections()
    killer = another_client()
    for client_id in held:
        killer.client_kill_filter(_id=client_id)
    killer.close()
    assert len(held) >= 1
    assert call("after") == ("after", 2)


def test_a_connection_the_pool_disowns_is_opened_again(monkeypatch):
    """As a Sentinel pool disowns connections to a primary it has learned is no longer one."""
    call("first")
    before = script_connections()
    monkeypatch.setattr(redis_connection().connection_pool, "owns_connection", lambda c: False)
    assert call("second") == ("second", 2)
    after = script_connections()
    assert before and after and not set(before) & set(after)


def test_an_unanswering_server_is_tried_once(monkeypatch):
    """As the pool does: one connect, then the error (a 503 to a push), not two timeouts."""
    accepted = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.1)

        def accept_all():
            while len(accepted) < 8:
                try:
                    accepted.append(listener.accept()[0])
                except OSError:
                    return

        thread = threading.Thread(target=accept_all, daemon=True)
        thread.start()
        port = listener.getsockname()[1]
        silent = Redis(port=port, db=1, socket_connect_timeout=0.3, socket_timeout=0.3)  # SELECT
        monkeypatch.setattr(tasks.queue, "_connection", silent)
        with pytest.raises((redis_errors.ConnectionError, redis_errors.TimeoutError)):
            call("nobody answers")
        thread.join(timeout=2)
    for connection in accepted:
        connection.close()
    assert len(accepted) == 1


def test_a_flushed_script_cache_is_loaded_again():
    call("before")
    redis_connection().script_flush()
    assert call("after") == ("after", 2)
    assert call("again") == ("again", 3)


def test_a_caller_finding_the_line_taken_goes_the_ordinary_way():
    call("first")
    taken = tasks.queue._line.take(redis_connection())
    assert taken is not None
    try:
        assert call("meanwhile") == ("meanwhile", 2)  # does not wait for the line
    finally:
        tasks.queue._line.give_back()
    assert call("after") == ("after", 3)


def test_threads_each_get_their_own_answers():
    answers, failures = [], []

    def worker(n: int) -> None:
        try:
            for i in range(150):
                answers.append((f"{n}:{i}", call(f"{n}:{i}")))
        except Exception as error:  # reported below, with the thread's name
            failures.append((n, repr(error)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert all(sent == echoed for sent, (echoed, _) in answers)
    assert sorted(count for _, (_, count) in answers) == list(range(1, 8 * 150 + 1))


def test_a_forked_child_does_not_share_its_parent_connection():
    call("parent")  # the parent holds a connection now
    child = os.fork()
    if child == 0:  # pragma: no cover (measured in the child, reported by its exit code)
        code, pool = 0, redis_connection().connection_pool
        checkouts, original = [], pool.get_connection
        pool.get_connection = lambda *a, **k: checkouts.append(1) or original(*a, **k)
        try:
            for i in range(300):
                if call(f"child:{i}")[0] != f"child:{i}":
                    code = 3
        except BaseException:
            code = 4
        if code == 0 and len(checkouts) != 300:  # a work-horse goes the ordinary way
            code = 5
        os._exit(code)
    mine = [call(f"parent:{i}") for i in range(300)]
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert [echoed for echoed, _ in mine] == [f"parent:{i}" for i in range(300)]
    assert redis_connection().get("lua:test") == b"601"


def test_a_new_shared_client_gets_the_old_connection_back_to_its_pool(monkeypatch):
    call("old")
    old, new = redis_connection(), another_client()
    monkeypatch.setattr(tasks.queue, "_connection", new)
    assert call("new") == ("new", 2)
    assert len(old.connection_pool._in_use_connections) == 0
    assert len(new.connection_pool._in_use_connections) == 1
    monkeypatch.undo()
    assert call("old again") == ("old again", 3)
    new.close()
