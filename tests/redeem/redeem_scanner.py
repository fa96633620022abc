"""One process of the concurrency tests (run as a script, not collected by pytest).

It connects to the test database, says `ready`, waits for `go` on stdin so every process acts
at the same instant, then either scans a code once with its own nonce
(`scan <code> <nonce>`) or registers a person for a session (`register <session> <unit>
<name>`), and prints the answer as JSON.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import sealing  # noqa: E402
from campaign.redeem import engine, exchange  # noqa: E402
from config import load_settings  # noqa: E402
from models import ExchangeSession, Unit, db, init_db  # noqa: E402


def scan(code: str, nonce: str) -> dict:
    engine.resolve(code)  # warm: the first query of a process is the slowest
    print("ready", flush=True)
    sys.stdin.readline()
    answer = engine.redeem(code, nonce, None, f"device:{nonce}")
    row = answer.redemption
    return {"status": answer.status, "id": row.id, "nonce": row.nonce}


def register(session_id: str, unit_id: str, name: str) -> dict:
    session, unit = ExchangeSession.get_by_id(int(session_id)), Unit.get_by_id(int(unit_id))
    print("ready", flush=True)
    sys.stdin.readline()
    person = {"name": name, "phone": "13800000000"}
    return {"status": exchange.register(session, unit, person, f"device:{name}").status}


def main(url: str, action: str, *args: str) -> None:
    init_db(url, pool_size=1)
    sealing.configure(load_settings({"DATABASE_URL": url}).phone_keys)  # phones are sealed
    with db.connection_context():
        answer = {"scan": scan, "register": register}[action](*args)
    print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
