#!/usr/bin/python3
"""lifeboat-maintenance: the maintenance page on an ingress server that is not set up yet.

A failover with --maintenance points DNS at the target site's ingress before
the long steps; on a server site that ingress may not run Caddy yet (a cold
target). Lifeboat puts this file on it through the transport (it is in no
user-data) and runs `start`, with the page on stdin: a transient systemd unit
answers every request on port 80 with the page, 503 and Retry-After. Caddy's
unit conflicts with that unit (the ingress user-data's drop-in), so Caddy's
start during the site's setup ends it, and from then on Caddy serves the same
page itself while no app server is healthy. Where Caddy already runs, `start`
starts nothing. Python 3's standard library only.

  start [--port P] [--retry-after S]   the page from stdin, served by the unit (or by Caddy where it runs)
  stop                                 the unit stopped, where it still runs
  serve [--port P] [--retry-after S]   what the unit runs
"""
import argparse
import json
import os
import subprocess
import sys
import time

ENV = os.environ
# providers/shared/maintenance.ts has the same names.
PAGE_DIR = ENV.get("LIFEBOAT_MAINTENANCE_DIR", "/var/www/lifeboat-maintenance")
UNIT = "lifeboat-maintenance.service"
SYSTEMCTL = ENV.get("LIFEBOAT_SYSTEMCTL", "systemctl")


class Failure(Exception):
    """What the caller reads on stderr: one line saying what failed."""


def handler(page, retry_after):
    from http.server import BaseHTTPRequestHandler

    class Handler(BaseHTTPRequestHandler):
        server_version = "lifeboat-maintenance"

        def answer(self):
            self.send_response(503)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Retry-After", str(retry_after))
            self.send_header("Content-Length", str(len(page)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(page)

        def __getattr__(self, name):
            # Every method (GET, POST, ...) gets the page.
            if name.startswith("do_"):
                return self.answer
            raise AttributeError(name)

        def log_message(self, *_args):
            pass

    return Handler


def unit_active(unit):
    return subprocess.run([SYSTEMCTL, "is-active", "--quiet", unit]).returncode == 0


def port_answers(port, timeout):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def serve(args):
    from http.server import ThreadingHTTPServer
    with open(os.path.join(PAGE_DIR, "index.html"), "rb") as f:
        page = f.read()
    ThreadingHTTPServer(("", args.port), handler(page, args.retry_after)).serve_forever()


def stop(_args):
    was = unit_active(UNIT)
    subprocess.run([SYSTEMCTL, "stop", UNIT], capture_output=True)
    print(json.dumps({"stopped": was}))


def start(args):
    page = sys.stdin.read()
    if not page.strip():
        raise Failure("give the page on stdin")
    os.makedirs(PAGE_DIR, exist_ok=True)
    os.chmod(PAGE_DIR, 0o755)
    staged = os.path.join(PAGE_DIR, "index.html.tmp")
    with open(staged, "w") as out:
        out.write(page)
    os.chmod(staged, 0o644)
    os.rename(staged, os.path.join(PAGE_DIR, "index.html"))
    # Where Caddy runs (an ingress already set up), it serves this page itself while no app server is healthy.
    if unit_active("caddy.service"):
        print(json.dumps({"servedBy": "caddy"}))
        return
    if not unit_active(UNIT):
        subprocess.run([SYSTEMCTL, "reset-failed", UNIT], capture_output=True)
        # A user of its own, allowed port 80 and nothing else root has.
        hardening = ["--property=DynamicUser=yes", "--property=AmbientCapabilities=CAP_NET_BIND_SERVICE"]
        command = [sys.executable, os.path.abspath(__file__), "serve", "--port", str(args.port), "--retry-after", str(args.retry_after)]
        subprocess.run(["systemd-run", f"--unit={UNIT}", "--description=Lifeboat: the maintenance page", "--property=Restart=always", *hardening, *command], check=True, capture_output=True, timeout=60)
    if not port_answers(args.port, 15):
        raise Failure(f"the maintenance page does not answer on port {args.port} (journalctl -u {UNIT})")
    print(json.dumps({"servedBy": UNIT}))


def main(argv):
    parser = argparse.ArgumentParser(prog="lifeboat-maintenance", description="Lifeboat's maintenance page on an ingress server (see the source's docstring).")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, run in (("start", start), ("serve", serve)):
        p = sub.add_parser(name)
        p.add_argument("--port", type=int, default=80)
        p.add_argument("--retry-after", type=int, default=120)
        p.set_defaults(run=run)
    sub.add_parser("stop").set_defaults(run=stop)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except Failure as failure:
        print(f"lifeboat-maintenance {args.command}: {failure}", file=sys.stderr)
        return 1
    except (OSError, subprocess.SubprocessError) as error:
        print(f"lifeboat-maintenance {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
