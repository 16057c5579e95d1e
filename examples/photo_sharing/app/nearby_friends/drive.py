"""Drive traffic through the nearby-friends service with the runtime probes on, writing the spool that
``flowscope scan`` reads (``plugins.probes`` in ../../flowscope.yaml).

    uv sync --all-packages --all-extras           # flask, redis, fakeredis come with flowscope-probes[test]
    uv run python examples/photo_sharing/app/nearby_friends/drive.py --requests 200
    uv run flowscope scan --config examples/photo_sharing/flowscope.yaml

The service runs unchanged (``service.py`` is what the static plugin reads). Requests go through Flask's
test client, the WSGI path a real server takes. Its cache is an in-process fakeredis standing in for
``nearby-cache.internal`` (the same host, so the probes name it ``cache://nearby-cache``) unless
``--real-redis`` is given; its metrics logger writes to a local handler. Settings come from the example's
flowscope.yaml. Nothing leaves the process except the spool, which holds counts, labels, field paths and
salted hashes — never a user id or a location.
"""

from __future__ import annotations

import argparse
import importlib
import io
import logging
import os
import random
import sys
from pathlib import Path

import flowscope_probes

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parents[1] / "flowscope.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests to send (default 200)")
    parser.add_argument("--real-redis", action="store_true", help="use the redis server the service names")
    parser.add_argument(
        "--keep", action="store_true", help="keep earlier spool files (default: start afresh)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spool", type=Path, help="write the spool here instead of the config's")
    args = parser.parse_args(argv)

    rt = flowscope_probes.install(config=CONFIG, spool=args.spool)
    assert rt is not None, "FLOWSCOPE_PROBES=0 is set"
    spool = rt.settings.spool
    if not args.keep:
        for old in spool.glob("*.jsonl"):
            if old != rt.worker.writer.path:
                old.unlink()

    sys.path.insert(0, str(HERE))
    service = importlib.import_module("service")
    if not args.real_redis:
        import fakeredis

        service.cache = fakeredis.FakeRedis(host="nearby-cache.internal")
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    service.metrics.addHandler(handler)
    service.metrics.setLevel(logging.INFO)

    rng = random.Random(args.seed)
    client = service.app.test_client()
    failures = 0
    for _ in range(args.requests):
        body = {
            "user_id": rng.randrange(100_000, 999_999),
            "location": f"{rng.uniform(-80, 80):.5f},{rng.uniform(-170, 170):.5f}",
        }
        if client.post("/api/v1/nearby_friends", json=body).status_code != 200:
            failures += 1
    flowscope_probes.flush()
    status = flowscope_probes.status() or {}
    flowscope_probes.uninstall()
    service.metrics.removeHandler(handler)
    print(
        f"{args.requests} requests ({failures} failed), {status.get('processed', 0)} sampled and matched; "
        f"faults {sum(status.get('faults', {}).values())}, dropped {status.get('dropped_queue', 0)}; "
        f"spool: {os.path.relpath(str(status.get('spool', spool)))}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
