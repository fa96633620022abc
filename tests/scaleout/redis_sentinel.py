"""A Redis primary, its replica and three sentinels, all from the bundled `redis-server`
on loopback ports of the test's own: a failover a test can cause and watch."""

import subprocess
import time
from pathlib import Path

from redis import Redis

from devstack.redis_server import redis_server_binary, start_redis, stop_redis
from tests.conftest import free_port

MASTER = "mymaster"


class SentinelGroup:
    def __init__(self, folder: Path):
        self.folder = folder
        self.primary_port, self.replica_port = free_port(), free_port()
        self.primary = start_redis(self.primary_port, folder / "primary", appendonly=False)
        self.replica = self._replica()
        self._wait(self._replica_in_sync, "the replica to sync")
        # Sentinels learn of replicas from the primary's INFO, every 10 s after the first;
        # one that has not yet seen the replica aborts a failover ("no good slave"), as a CI
        # run that killed the primary 4 s after starting them saw. Started after the sync,
        # their first INFO lists it; and the group is ready only when all three know it.
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.sentinels = [self._sentinel(n, port) for n, port in enumerate(self.sentinel_ports)]
        self._wait(lambda: self.master_port() == self.primary_port, "sentinels to agree")
        self._wait(self._sentinels_know_the_replica, "every sentinel to know the replica")

    @property
    def hosts(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def master_port(self) -> int | None:
        try:
            answer = Redis(port=self.sentinel_ports[0], socket_timeout=1).execute_command(
                "SENTINEL", "get-master-addr-by-name", MASTER
            )
        except Exception:
            return None
        return int(answer[1]) if answer else None

    def kill_primary(self) -> None:
        self.primary.kill()
        self.primary.wait()

    def fail_over(self) -> None:
        """A failover the sentinels run on request: the old primary lives on as a replica,
        so a client still connected to it is told READONLY, not disconnected."""
        Redis(port=self.sentinel_ports[0], socket_timeout=5).execute_command(
            "SENTINEL", "FAILOVER", MASTER
        )

    def wait_for_failover(self, timeout: float = 30) -> None:
        self._wait(lambda: self.master_port() == self.replica_port, "the failover", timeout)

    def wait_for_demotion(self, timeout: float = 30) -> None:
        """Until the old primary follows the new one: the sentinels convert it when they next
        look at it (seconds here), and until then it still takes writes (docs/deploy.md)."""
        self._wait(lambda: self._role(self.primary_port) == "slave", "the demotion", timeout)

    def stop(self) -> None:
        for process in [*self.sentinels, self.replica, self.primary]:
            if process.poll() is None:
                stop_redis(process)

    def _replica(self) -> subprocess.Popen:
        folder = self.folder / "replica"
        folder.mkdir(parents=True)
        return subprocess.Popen(
            [
                redis_server_binary(),
                "--port", str(self.replica_port), "--bind", "127.0.0.1",
                "--dir", str(folder), "--save", "", "--appendonly", "no",
                "--replicaof", "127.0.0.1", str(self.primary_port),
                "--logfile", str(folder / "redis.log"),
            ],
        )  # fmt: skip

    def _sentinel(self, n: int, port: int) -> subprocess.Popen:
        folder = self.folder / f"sentinel-{n}"
        folder.mkdir(parents=True)
        config = folder / "sentinel.conf"
        config.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {folder}\nlogfile {folder / 'sentinel.log'}\n"
            f"sentinel monitor {MASTER} 127.0.0.1 {self.primary_port} 2\n"
            f"sentinel down-after-milliseconds {MASTER} 1000\n"
            f"sentinel failover-timeout {MASTER} 10000\n"
            f"sentinel parallel-syncs {MASTER} 1\n"
        )
        return subprocess.Popen([redis_server_binary(), str(config), "--sentinel"])

    def _sentinels_know_the_replica(self) -> bool:
        for port in self.sentinel_ports:
            try:
                replicas = Redis(port=port, socket_timeout=1).execute_command(
                    "SENTINEL", "REPLICAS", MASTER
                )
            except Exception:
                return False
            if not any(  # redis-py answers a dict per replica
                int(r.get(b"port", 0)) == self.replica_port and r.get(b"flags") == b"slave"
                for r in replicas
            ):
                return False
        return True

    @staticmethod
    def _role(port: int) -> str | None:
        try:
            return Redis(port=port, socket_timeout=1).info("replication").get("role")
        except Exception:
            return None

    def _replica_in_sync(self) -> bool:
        try:
            info = Redis(port=self.replica_port, socket_timeout=1).info("replication")
        except Exception:
            return False
        return info.get("master_link_status") == "up"

    @staticmethod
    def _wait(predicate, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}")
