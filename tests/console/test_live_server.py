"""The browser tests' loopback server: a page a browser leaves mid-download must leave no
open file behind (CI failed a console test on the collector's ResourceWarning for one)."""

import gc
import socket
import struct
import sys
import threading

from tests.notice_helpers import wait_for


def drop_mid_download(live_server: str, path: str) -> None:
    """Ask for a large file, read a little, send bytes the server has not read, then reset:
    werkzeug's drain after the failed write meets the reset and skips the response's close()."""
    host, port = live_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        sock.recv(1000)
        sock.sendall(b"x" * 400)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_dropped_download_leaves_no_file_for_the_collector(live_server, monkeypatch):
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    before = set(threading.enumerate())
    for _ in range(60):
        drop_mid_download(live_server, "/console/static/vendor/echarts-5.6.0/echarts.min.js")

    def requests_done() -> bool:  # the server's threads have finished their failed writes
        return not [
            thread
            for thread in threading.enumerate()
            if thread not in before and thread.name.endswith("(process_request_thread)")
        ]

    assert wait_for(requests_done, timeout=30, interval=0.05)
    gc.collect()
    assert [repr(u.exc_value) for u in unraisable] == []
