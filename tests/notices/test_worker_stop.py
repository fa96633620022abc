"""Stopping `python -m cli.worker` with SIGTERM, as systemd and compose do: an idle worker
exits at once; a busy one finishes its job first (RQ's warm shutdown), and a second signal
takes the job down with it (cold shutdown); one waiting for a lost Redis stops cleanly. Real
worker processes, as in production. (A worker that lost Redis coming back is the Sentinel
failover test's, tests/scaleout.)"""

import os
import signal
import subprocess
import time

from redis import Redis
from rq.job import Job
from rq.worker_registration import get_keys as worker_keys

from tasks.queue import get_queue, redis_connection
from tests.conftest import free_port
from tests.notice_helpers import WorkerProcesses, wait_for, worker_env

EXIT_WITHIN = 10  # seconds; a worker that ignores the signal never exits


def start_worker(settings, redis_url, tmp_path) -> tuple[WorkerProcesses, subprocess.Popen]:
    workers = WorkerProcesses(worker_env(settings, redis_url), log_dir=tmp_path)
    workers.start()
    return workers, workers.processes[0]


def worker_state(process: subprocess.Popen, connection: Redis | None = None) -> str | None:
    """The state the worker of `process` has registered in Redis (None before its birth, and
    while its hash has its pid but no state yet: rq writes the fields one after another).
    Read from its hash: rq's `Worker.all` would raise this connection's socket timeout."""
    connection = connection or redis_connection()
    for key in worker_keys(connection=connection):
        pid, state = connection.hmget(key, "pid", "state")
        if pid and int(pid) == process.pid:
            return state.decode() if state else None
    return None


def exit_code(process: subprocess.Popen) -> int | None:
    """The process's return code once it exits on its own, None if it is still running."""
    try:
        return process.wait(timeout=EXIT_WITHIN)
    except subprocess.TimeoutExpired:
        return None


def worker_log(tmp_path) -> str:
    return (tmp_path / "worker-0.log").read_text(errors="replace")


def busy_with(process: subprocess.Popen, tmp_path, seconds: int) -> Job:
    """Once the worker is idle, give it a job that sleeps `seconds`; return when it is busy."""
    assert wait_for(lambda: worker_state(process) == "idle", timeout=30), worker_log(tmp_path)
    job = get_queue().enqueue(time.sleep, seconds, job_timeout=seconds * 2)
    assert wait_for(lambda: worker_state(process) == "busy", timeout=10), worker_log(tmp_path)
    return job


def test_an_idle_worker_exits_on_sigterm(settings, redis_url, tmp_path):
    workers, process = start_worker(settings, redis_url, tmp_path)
    try:
        assert wait_for(lambda: worker_state(process) == "idle", timeout=30), worker_log(tmp_path)
        os.kill(process.pid, signal.SIGTERM)
        assert exit_code(process) == 0, worker_log(tmp_path)
    finally:
        workers.stop()
    assert "stopped unexpectedly" not in worker_log(tmp_path)
    assert not worker_keys(connection=redis_connection())  # it left, and no new one came


def test_a_busy_worker_finishes_its_job_then_exits(settings, redis_url, tmp_path):
    workers, process = start_worker(settings, redis_url, tmp_path)
    try:
        job = busy_with(process, tmp_path, seconds=3)
        signalled = time.monotonic()
        os.kill(process.pid, signal.SIGTERM)
        assert exit_code(process) == 0, worker_log(tmp_path)
        assert time.monotonic() - signalled >= 2  # it waited for the 3 s job to end
    finally:
        workers.stop()
    assert Job.fetch(job.id, connection=redis_connection()).get_status() == "finished"
    assert "stopped unexpectedly" not in worker_log(tmp_path)


def test_a_second_signal_takes_the_job_down(settings, redis_url, tmp_path):
    workers, process = start_worker(settings, redis_url, tmp_path)
    try:
        job = busy_with(process, tmp_path, seconds=60)
        os.kill(process.pid, signal.SIGTERM)
        time.sleep(1.5)  # RQ ignores a second signal within a second of the first
        os.kill(process.pid, signal.SIGINT)
        assert exit_code(process) == 0, worker_log(tmp_path)
    finally:
        workers.stop()
    assert Job.fetch(job.id, connection=redis_connection()).get_status() != "finished"
    assert "stopped unexpectedly" not in worker_log(tmp_path)


def test_a_worker_waiting_for_redis_stops_on_sigterm_without_a_traceback(settings, tmp_path):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens: every life ends at once
    workers, process = start_worker(settings, nowhere, tmp_path)
    try:
        assert wait_for(lambda: "starting again" in worker_log(tmp_path), timeout=30)
        os.kill(process.pid, signal.SIGTERM)
        assert exit_code(process) == 0, worker_log(tmp_path)
    finally:
        workers.stop()
    assert "asked to stop while waiting for Redis" in worker_log(tmp_path)
    assert "Traceback" not in worker_log(tmp_path)
