"""The webhook receiver that benchmarks deliver to: a local HTTP server answering every POST
with 200 and keeping, per alert key, the time of each delivery and the alert as last sent.

>>> sink = WebhookSink(clock=time.time)      # doctest: +SKIP
>>> ... notify posts to sink.url ...
>>> sink.first()                             # doctest: +SKIP
{'story:r:1': 1733050000.12}
>>> sink.close()                             # doctest: +SKIP
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookSink:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.deliveries: dict[str, list[float]] = {}  # alert key -> each delivery's time
        self.alerts: dict[str, dict] = {}  # alert key -> the alert as last delivered
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                now = clock()
                with sink.lock:
                    for alert in json.loads(body)["alerts"]:
                        sink.deliveries.setdefault(alert["key"], []).append(now)
                        sink.alerts[alert["key"]] = alert
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def first(self) -> dict[str, float]:
        """Alert key -> when it was first delivered."""
        with self.lock:
            return {key: times[0] for key, times in self.deliveries.items()}

    def count(self, prefix: str = "") -> int:
        """How many alert keys starting with ``prefix`` were delivered (once or more)."""
        with self.lock:
            return sum(1 for key in self.deliveries if key.startswith(prefix))

    def delivered(self) -> int:
        """Deliveries of alerts in all (an alert sent twice counts twice)."""
        with self.lock:
            return sum(len(times) for times in self.deliveries.values())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
