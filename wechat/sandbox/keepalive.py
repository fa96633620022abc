"""The sandbox's HTTP server: HTTP/1.1 with keep-alive, as WeChat's servers do.

Werkzeug's development server closes every connection (it cannot tell where an unread
request body ends) and, after each answer, waits 10 ms for stray body bytes. A client's
connection reuse then goes unmeasured and every call pays a TCP handshake and a new server
thread; the notice benchmark spent a third of its sandbox time that way. Here each request's
body is read whole by its Content-Length before the app runs, so the next request line is
always where the connection expects it. Requests without a length (chunked bodies) are
refused with 411, which WeChat's own servers' clients never send. One thread per open
connection; an idle one is closed after `IDLE_SECONDS`.
"""

import io
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote_to_bytes

IDLE_SECONDS = 60
MAX_BODY = 64 * 1024 * 1024


class KeepAliveServer(ThreadingHTTPServer):
    """A threaded server for one WSGI app (`server.app`)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], app):
        self.app = app
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address) -> None:
        with self._lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End every open connection: a stopped sandbox answers nobody, not even a client
        holding a kept-alive connection (tests stop it to play WeChat being unreachable)."""
        with self._lock:
            connections, self._open = list(self._open), set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    disable_nagle_algorithm = True

    def __getattr__(self, name: str):
        if name.startswith("do_"):  # every method goes to the app
            return self._run
        raise AttributeError(name)

    def log_message(self, format: str, *args) -> None:
        """No access log on stderr: `GET /__admin/requests` is the sandbox's access log."""

    def _run(self) -> None:
        length = self.headers.get("Content-Length")
        if length is None and "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._answer("411 Length Required", [("Content-Type", "text/plain")], [b""])
            self.close_connection = True
            return
        size = int(length) if length and length.isdigit() else 0
        if size > MAX_BODY:
            self._answer("413 Payload Too Large", [("Content-Type", "text/plain")], [b""])
            self.close_connection = True
            return
        body = self.rfile.read(size) if size else b""
        started: list = []

        def start_response(status, headers, exc_info=None):
            started[:] = [status, headers]
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        result = self.server.app(self._environ(body), start_response)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        self._answer(*started, chunks)

    def _environ(self, body: bytes) -> dict:
        path, _, query = self.path.partition("?")
        environ = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)) if body else "",
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": str(self.client_address[1]),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "werkzeug.socket": self.connection,  # the drop_after fault shuts it mid-call
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                continue
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _answer(self, status: str, headers: list, chunks: list[bytes]) -> None:
        """Status line, headers and body in one write (two small writes would meet Nagle's
        algorithm and the client's delayed ACK: 40 ms a call)."""
        payload = b"".join(chunks)
        lines = [f"{self.protocol_version} {status}", f"Date: {self.date_time_string()}"]
        lines += [
            f"{name}: {value}"
            for name, value in headers
            if name.lower() not in ("content-length", "connection", "transfer-encoding")
        ]
        lines.append(f"Content-Length: {len(payload)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            self.wfile.write(head + (payload if self.command != "HEAD" else b""))
        except OSError:  # the client left, or a fault shut the socket on purpose
            self.close_connection = True
