"""``alongside status`` and ``valkey provision`` reach Valkey through its Sentinels too."""

from __future__ import annotations

from alongside.cli.status import check_redis
from alongside.kit.testing.cluster import ValkeyHA


def test_status_finds_the_primary_through_the_sentinels(valkey_ha: ValkeyHA) -> None:
    services = check_redis(valkey_ha.url, 3.0)  # the services' login: PING only
    assert services.up and "PING" in services.detail
    admin = check_redis(valkey_ha.admin_url, 3.0)
    assert admin.up and admin.detail.startswith("valkey ")
    gone = check_redis("redis+sentinel://127.0.0.1:1/alongside/0", 1.0)
    assert not gone.up
