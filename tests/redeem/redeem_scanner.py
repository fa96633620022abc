"""One scanning process of the concurrency test (run as a script, not collected by pytest).

It connects to the test database, says `ready`, waits for `go` on stdin so every process
scans at the same instant, scans the code once with its own nonce and prints the answer.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from campaign.redeem import engine  # noqa: E402
from models import db, init_db  # noqa: E402


def main(url: str, code: str, nonce: str) -> None:
    init_db(url, pool_size=1)
    with db.connection_context():
        engine.resolve(code)  # warm: the first query of a process is the slowest
        print("ready", flush=True)
        sys.stdin.readline()
        answer = engine.redeem(code, nonce, None, f"device:{nonce}")
    row = answer.redemption
    print(json.dumps({"status": answer.status, "id": row.id, "nonce": row.nonce}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
