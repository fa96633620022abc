"""Run the WeChat sandbox by hand or from the dev stack:

    python -m wechat.sandbox --port 5055 --app '{"kind": "mp", "appid": "wx...", ...}'

Each --app is a JSON object of `SandboxState.add_app` arguments. The sandbox prints its URL on
one line once it listens, then serves until SIGINT or SIGTERM.
"""

import argparse
import json
import signal
import sys
from pathlib import Path

from .persistence import Keeper
from .server import Sandbox

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def main(argv: list[str] | None = None) -> int:
    """Start, announce the URL, serve until told to stop."""
    parser = _parser()
    args = parser.parse_args(argv)
    sandbox = Sandbox(push_timeout=args.push_timeout)
    for spec in args.app:
        try:
            sandbox.state.add_app(**spec)
        except (TypeError, ValueError) as exc:
            parser.error(f"--app {json.dumps(spec)}: {exc}")
    # Block the stop signals before any thread starts, so that only sigwait() receives them.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    keeper = Keeper(sandbox.state, args.state_file).start() if args.state_file else None
    with sandbox.start(args.host, args.port):
        print(sandbox.url, flush=True)
        signal.sigwait(STOP_SIGNALS)
    if keeper:
        keeper.stop()
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wechat.sandbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055, help="0 picks a free port")
    parser.add_argument(
        "--push-timeout", type=float, default=5.0, help="seconds WeChat waits per push attempt"
    )
    parser.add_argument(
        "--app", type=_app_spec, action="append", default=[], help="JSON object for add_app"
    )
    parser.add_argument(
        "--state-file", type=Path, help="keep users, templates and grants in this JSON file"
    )
    return parser


def _app_spec(text: str) -> dict:
    try:
        spec = json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from exc
    if not isinstance(spec, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return spec


if __name__ == "__main__":
    sys.exit(main())
