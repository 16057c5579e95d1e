"""``python -m flowscope_probes [--config FILE] (SCRIPT | -m MODULE) [ARGS...]``: run a program with the
probes installed before it starts — no ``sitecustomize``, no code change. FILE is a flowscope.yaml (its
``plugins.probes``) or a plain probes settings file; without it ``$FLOWSCOPE_PROBES_CONFIG`` is read.
Pre-fork servers work (``-m gunicorn app:app``): each worker process gets its own worker thread and spool
file. ``FLOWSCOPE_PROBES=0`` runs the program without probes.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from flowscope_probes.runtime import install
from flowscope_probes.settings import SettingsError

USAGE = "usage: python -m flowscope_probes [--config FILE] (SCRIPT | -m MODULE) [ARGS...]"


def main(argv: list[str]) -> None:
    config = None
    if argv[:1] == ["--config"] and len(argv) >= 2:
        config, argv = argv[1], argv[2:]
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr)
        raise SystemExit(0 if argv else 2)
    try:
        if config is None:
            install()
        else:
            if not Path(config).is_file():
                raise SettingsError(f"{config}: no such probes config file")
            install(config=config)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if argv[0] == "-m":
        if len(argv) < 2:
            print(USAGE, file=sys.stderr)
            raise SystemExit(2)
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = argv
        sys.path.insert(0, str(Path(argv[0]).resolve().parent))
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
