#!/usr/bin/python3
"""A local HTTP server for the health-check tests: answers STATUS to everything and appends
"METHOD PATH BODY" lines to DIR/requests. Prints "PORT <n>" once listening."""
import http.server
import os
import sys

status, directory = int(sys.argv[1]), sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        with open(os.path.join(directory, "requests"), "a") as handle:
            handle.write(f"{self.command} {self.path} {body}\n")
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(b"ok")

    do_GET = do_POST = do_HEAD = answer

    def log_message(self, *arguments):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print("PORT", server.server_address[1], flush=True)
server.serve_forever()
