"""``flowscope`` (the console script) and ``python -m flowscope``.

A module apart from :mod:`flowscope.cli` so that ``flowscope --version`` answers before typer, rich and the
plugins are imported (about 0.4 s on a loaded machine): it is what scripts and CI probes call most.
"""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    if args == ["--version"]:
        from flowscope import __version__

        sys.stdout.write(f"flowscope {__version__}\n")
        return
    from flowscope.cli import main as cli_main

    cli_main(args)


if __name__ == "__main__":
    main()
