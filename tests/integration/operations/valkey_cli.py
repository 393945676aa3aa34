"""A stand-in for ``valkey-cli -u URL COMMAND ARGS...`` where the real one is
not installed (the test environment has only ``valkey-server``): it sends the
same command to the same server and prints the reply as valkey-cli does
when its output is not a terminal (bulk strings raw, arrays one element a
line, integers bare). The runbook's own commands then run unchanged."""

from __future__ import annotations

import sys

import redis


def _print(reply: object) -> None:
    if isinstance(reply, dict):  # a RESP3 map: key, value, key, value... as valkey-cli prints it
        for key, value in reply.items():
            _print(key)
            _print(value)
    elif isinstance(reply, list | tuple):
        for item in reply:
            _print(item)
    elif isinstance(reply, bytes):
        sys.stdout.write(reply.decode("utf-8", "replace") + "\n")
    elif reply is None:
        sys.stdout.write("\n")
    else:
        sys.stdout.write(f"{reply}\n")


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "-u":
        sys.stderr.write("usage: valkey-cli -u URL COMMAND [ARG ...]\n")
        return 2
    # A bare connection: the reply as the server sent it, without redis-py's per-command parsing.
    connection = redis.Redis.from_url(argv[1]).connection_pool.make_connection()
    try:
        connection.send_command(*argv[2:])
        _print(connection.read_response())
    except redis.RedisError as exc:
        sys.stdout.write(f"ERR {exc}\n")
        return 1
    finally:
        connection.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
