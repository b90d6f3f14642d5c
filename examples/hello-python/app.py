"""The demo app: a tiny web server on $PORT that says where it runs.

Python 3 is not part of the Debian stack's images: the python-runtime extension installs it into the
builder (so the python-app buildpack can byte-compile this file) and into the run image.
"""
import os
import platform
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


def distro() -> str:
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


class Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = (
            f"Hello from kiln! {os.environ.get('GREETING', '')}\n"
            f"python {sys.version.split()[0]} on {distro()}, running as uid {os.getuid()}\n"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: object) -> None:
        sys.stderr.write("hello-python: " + (fmt % args) + "\n")


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8080"))
    print(f"hello-python: listening on :{port}", flush=True)
    HTTPServer(("", port), Hello).serve_forever()
