"""`python -m cli.cron`: RQ's CronScheduler running `tasks.schedule.PERIODIC`."""

from rq.cron import CronScheduler

import runtime
from tasks.queue import FAILURE_TTL, RESULT_TTL, redis_connection
from tasks.schedule import PERIODIC


def main() -> None:
    runtime.bootstrap(redis_socket_timeout=None)
    scheduler = CronScheduler(connection=redis_connection())
    for func, queue_name, interval in PERIODIC:
        scheduler.register(
            func,
            queue_name,
            interval=interval,
            result_ttl=RESULT_TTL,
            failure_ttl=FAILURE_TTL,
        )
    scheduler.start()


if __name__ == "__main__":
    main()
