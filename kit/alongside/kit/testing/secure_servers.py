"""nats-server and Valkey with per-service users, for tests of credentials.

Both run a deployment's own configuration (``deploy/nats/nats-server.conf``,
``deploy/valkey/valkey.conf`` and ``users.acl``), so tests check the rules that
ship rather than a copy. Only what a throwaway server needs changes: a free
port on 127.0.0.1, a temporary data folder, no monitoring port, and the
passwords, which the test chooses.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

from alongside.kit.testing.servers import NatsServer, ValkeyServer, nats_binary, valkey_binary

# ACL rule tokens that set or clear a user's passwords.
_PASSWORD_TOKENS = ("#", ">", "<", "!")
_PASSWORD_WORDS = ("nopass", "resetpass")


class SecureNatsServer(NatsServer):
    """nats-server with ``config``; ``passwords`` maps each user to a password
    and fills the config's ``$<USER>_NATS_PASSWORD`` variables."""

    def __init__(
        self, config: Path, passwords: Mapping[str, str], root: Path | None = None, port: int | None = None
    ) -> None:
        super().__init__(root, port)
        self._config = config.resolve()
        self.passwords = dict(passwords)

    def url_for(self, user: str) -> str:
        return f"nats://{user}:{self.passwords[user]}@127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        path = self.root / "nats.conf"
        path.write_text(self._render())
        # Flags override the file: listen on a free local port, no monitoring.
        return [nats_binary(), "-c", str(path), "-a", "127.0.0.1", "-p", str(self.port), "-m", "0"]

    def _render(self) -> str:
        # Variables defined in the file take precedence over the environment,
        # and a later jetstream block replaces the deployment's (its store
        # folder and fsync policy are for production disks).
        variables = "".join(f'{user.upper()}_NATS_PASSWORD: "{pw}"\n' for user, pw in self.passwords.items())
        store = self.root / "jetstream"
        return f'{variables}\n{self._inline(self._config)}\njetstream {{ store_dir: "{store}" }}\n'

    def _inline(self, config: Path) -> str:
        """``config`` with each ``include <file>`` replaced by that file (relative
        to ``config``), as the server would read it from the deployment's folder."""
        lines = []
        for line in config.read_text().splitlines():
            words = line.split()
            if len(words) == 2 and words[0] == "include":
                lines.append(self._inline(config.parent / words[1].strip("\"';")))
            else:
                lines.append(line)
        return "\n".join(lines)


# Each service's logical database in deploy/valkey/users.acl (Valkey 9.1+).
DATABASES = {"matcher": 1, "scheduler": 2, "notifier": 3}


class SecureValkeyServer(ValkeyServer):
    """Valkey with ``config`` and the users of ``acl``; ``passwords`` replaces
    the passwords of the users it names."""

    def __init__(
        self,
        config: Path,
        acl: Path,
        passwords: Mapping[str, str],
        root: Path | None = None,
        port: int | None = None,
    ) -> None:
        super().__init__(root, port)
        self._config, self._acl = config.resolve(), acl.resolve()
        self.passwords = dict(passwords)

    def url_for(self, user: str, db: int | None = None) -> str:
        """A login as ``user`` to its own database (users.acl's ``db=``), or to ``db``."""
        chosen = DATABASES.get(user, 0) if db is None else db
        return f"redis://{quote(user)}:{quote(self.passwords[user])}@127.0.0.1:{self.port}/{chosen}"

    def _command(self) -> list[str]:
        acl = self.root / "users.acl"
        acl.write_text(with_passwords(self._acl.read_text(), self.passwords))
        return [
            valkey_binary(), str(self._config),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.root),
            "--aclfile", str(acl),
        ]  # fmt: skip


def with_passwords(acl: str, passwords: Mapping[str, str]) -> str:
    """The ACL file with each named user's passwords replaced by the given one."""
    lines = []
    for line in acl.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "user" and words[1] in passwords:
            rules = [w for w in words[2:] if not w.startswith(_PASSWORD_TOKENS) and w not in _PASSWORD_WORDS]
            line = " ".join(["user", words[1], "resetpass", f">{passwords[words[1]]}", *rules])
        lines.append(line)
    return "\n".join(lines) + "\n"
