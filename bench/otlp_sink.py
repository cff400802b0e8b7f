#!/usr/bin/env python3
"""An OTLP/HTTP endpoint that accepts and discards what it is sent: the collector of the benchmark's
tracing rows, so that the server's export work (encoding, sending) is in its measured CPU.

  python3 bench/otlp_sink.py PORT
"""

import http.server
import sys


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        self.rfile.read(length)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
