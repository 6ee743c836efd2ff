"""A plain file server on 127.0.0.1 with HTTP Range support and a mid-way cut, for the
CLIP weights download (encoders.weights) and its dialog."""

from __future__ import annotations

import io
import os
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _checkpoint_like(size: int) -> bytes:
    """Random bytes in a zip archive, the container a PyTorch checkpoint is."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data/0", os.urandom(size))
    return buf.getvalue()


PAYLOAD = _checkpoint_like(300_000)


class FileServer:
    """Serves PAYLOAD with Range support; ``cut_after`` drops the connection after that many
    body bytes (once), like a network that fails mid-way."""

    def __init__(self, payload: bytes = PAYLOAD, etag: str | None = None):
        self.payload, self.etag, self.cut_after, self.ranges = payload, etag, None, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                start = 0
                if rng := self.headers.get("Range"):
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                server.ranges.append(start)
                body = server.payload[start:]
                if start >= len(server.payload):
                    self.send_response(416)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(body)))
                if server.etag:
                    self.send_header("X-Linked-ETag", f'"{server.etag}"')
                self.end_headers()
                if server.cut_after is not None:
                    self.wfile.write(body[: server.cut_after])
                    server.cut_after = None
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/weights.bin"

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
