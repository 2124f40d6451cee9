"""The SCIM peer: scim2-server (Python, in memory) with a static bearer token,
served either as its `scim2-server` command serves it (wsgiref's threading
server) or as its ASGI application under uvicorn (one process: the storage
is in memory, so it cannot be shared between processes).

    python scim2_peer.py --port 8081 --token T --server wsgiref|uvicorn

Started by benches/compare/run with the virtualenv in target/bench-compare,
which holds scim2-server and uvicorn. Exits by itself after
BENCH_LIFETIME_SECONDS."""

import argparse
import os
import threading

from scim2_models import UnauthorizedException
from scim2_server.applications.asgi import ASGIApplication
from scim2_server.memory import AsyncInMemoryStorage, InMemoryStorage
from scim2_server.testserver.application import BearerTokenApplication
from scim2_server.testserver.cli import ThreadingWSGIServer
from scim2_server.utils import load_default_provider


class BearerTokenASGIApplication(ASGIApplication):
    """The command's bearer-token check, on the ASGI application."""

    def __init__(self, storage, provider, token):
        super().__init__(storage, provider)
        self.token = token

    def check_auth(self, request):
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or token != self.token:
            raise UnauthorizedException


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--server", choices=["wsgiref", "uvicorn"], default="wsgiref")
    args = parser.parse_args()
    lifetime = int(os.environ.get("BENCH_LIFETIME_SECONDS", "3600"))
    threading.Timer(lifetime, lambda: os._exit(0)).start()

    provider = load_default_provider()
    if args.server == "uvicorn":
        import uvicorn

        app = BearerTokenASGIApplication(AsyncInMemoryStorage(), provider, args.token)
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning",
                    access_log=False)
    else:
        from wsgiref.simple_server import make_server

        app = BearerTokenApplication(InMemoryStorage(), provider, bearer_tokens=[args.token])
        with make_server("127.0.0.1", args.port, app, server_class=ThreadingWSGIServer) as server:
            print(f"scim2-server (wsgiref) on 127.0.0.1:{args.port}", flush=True)
            server.serve_forever()


if __name__ == "__main__":
    main()
