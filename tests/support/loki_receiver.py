"""A local stand-in for Loki's push endpoint that checks each push's format and keeps the lines."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LokiReceiver:
    def __init__(self) -> None:
        self.pushes: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                assert self.path == "/loki/api/v1/push"
                assert self.headers["Content-Type"] == "application/json"
                for stream in body["streams"]:
                    assert set(stream) == {"stream", "values"}
                    assert all(isinstance(v, str) for v in stream["stream"].values())
                    for ts, line in stream["values"]:
                        assert ts.isdigit() and len(ts) >= 19  # nanoseconds since the epoch, as a string
                        json.loads(line)
                receiver.pushes.append(body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lines(self) -> list[str]:
        return [line for push in self.pushes for stream in push["streams"] for _, line in stream["values"]]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
