"""``python -m alongside.kit.probe [ADDR]``: is this replica serving?

The container image's HEALTHCHECK and the Kubernetes exec probes (where the
native ``grpc:`` probe cannot do TLS) run it. It asks the gRPC health service
(``grpc.health.v1.Health/Check``, the server's overall status, or
``--service``'s: ``alongside.liveness`` answers SERVING whatever the
dependencies) at ``ADDR``
(``host:port``) and exits 0 when it answers SERVING, 1 otherwise, with one
line on stderr saying why. An ``http://`` or ``https://`` ADDR is fetched
instead (the console is HTTP): any 2xx or 3xx answer counts as serving.

Without ADDR it probes the process it sits beside: ``CONSOLE_ADDR`` (the
console, at ``/sign-in``) or else ``LISTEN_ADDR`` (a service), with a
wildcard host (``0.0.0.0``, ``[::]``) asked on loopback. So one image
HEALTHCHECK serves every command. ``--tls-ca`` (and ``--tls-cert`` with
``--tls-key`` for mTLS) speak TLS; ``--server-name`` is the name the server's
certificate must carry when it is not the host asked.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from alongside.kit.grpc.tls import channel_credentials
from alongside.kit.settings import ConfigError

WILDCARDS = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]", "::": "[::1]", "": "127.0.0.1"}
CONSOLE_PATH = "/sign-in"


def local_target(env: Mapping[str, str]) -> str:
    """The address to probe when none is given: this container's own server."""
    for variable, scheme in (("CONSOLE_ADDR", "http://"), ("LISTEN_ADDR", "")):
        if env.get(variable):
            host, _, port = env[variable].rpartition(":")
            target = f"{WILDCARDS.get(host, host)}:{port}"
            return f"{scheme}{target}{CONSOLE_PATH}" if scheme else target
    raise ConfigError("give ADDR, or set LISTEN_ADDR (a service) or CONSOLE_ADDR (the console)")


def check_grpc(target: str, timeout: float, args: argparse.Namespace) -> str:
    """The server's overall health status name (``SERVING``, ``NOT_SERVING``, ...)."""
    options: list[tuple[str, str]] = []
    if args.server_name:
        options.append(("grpc.ssl_target_name_override", args.server_name))
    if args.tls_ca or args.tls_cert:
        credentials = channel_credentials(
            args.tls_ca, args.tls_cert, args.tls_key, variables=("--tls-ca", "--tls-cert", "--tls-key")
        )
        channel = grpc.secure_channel(target, credentials, options=options)
    else:
        channel = grpc.insecure_channel(target, options=options)
    with channel:
        request = health_pb2.HealthCheckRequest(service=args.service)
        reply = health_pb2_grpc.HealthStub(channel).Check(request, timeout=timeout)
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def check_http(url: str, timeout: float) -> str:
    """``SERVING`` for a 2xx or 3xx answer (redirects are not followed)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_: object) -> None:
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=timeout) as reply:
            status = int(reply.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    return "SERVING" if 200 <= status < 400 else f"HTTP {status}"


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m alongside.kit.probe", description=__doc__.splitlines()[0])
    parser.add_argument("addr", nargs="?", default="", help="host:port (gRPC health) or an http(s) URL")
    parser.add_argument("--service", default="", help="health service to ask (default: the overall status)")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for the answer")
    parser.add_argument("--tls-ca", default="", help="CA file that signed the server's certificate (TLS)")
    parser.add_argument("--tls-cert", default="", help="client certificate (mTLS)")
    parser.add_argument("--tls-key", default="", help="client certificate's key (mTLS)")
    parser.add_argument("--server-name", default="", help="name the server's certificate must carry")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    try:
        target = args.addr or local_target(os.environ if env is None else env)
        if target.startswith(("http://", "https://")):
            status = check_http(target, args.timeout)
        else:
            status = check_grpc(target, args.timeout, args)
    except ConfigError as exc:
        print(f"probe: {exc}", file=sys.stderr)
        return 2
    except grpc.RpcError as exc:
        status = f"unreachable ({exc.code().name})"
    except OSError as exc:
        status = f"unreachable ({type(exc).__name__})"
    if status == "SERVING":
        return 0
    print(f"probe: {target} is {status}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
