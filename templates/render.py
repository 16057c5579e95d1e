"""Render the plugin template: ``python templates/render.py NAME DEST [--description TEXT]``.

NAME becomes the entry-point name (``flowscope scan --only NAME``), the package ``flowscope_NAME`` and the
distribution ``flowscope-NAME``. Kept dependency-free so it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "plugin"


def render(name: str, dest: Path, description: str = "collects data flows") -> Path:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise SystemExit(f"error: plugin name {name!r} must be lower-case letters, digits and _")
    if dest.exists() and any(dest.iterdir()):
        raise SystemExit(f"error: {dest} exists and is not empty")
    tokens = {"__name__": name, "__dist__": name.replace("_", "-"), "__description__": description}
    for src in sorted(TEMPLATE.rglob("*")):
        if "__pycache__" in src.parts or src.suffix == ".pyc":
            continue
        rel = str(src.relative_to(TEMPLATE))
        for token, value in tokens.items():
            rel = rel.replace(token, value)
        target = dest / rel
        if src.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        text = src.read_text(encoding="utf-8")
        for token, value in tokens.items():
            text = text.replace(token, value)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name")
    parser.add_argument("dest", type=Path)
    parser.add_argument("--description", default="collects data flows")
    args = parser.parse_args(argv)
    out = render(args.name, args.dest, args.description)
    print(f"rendered plugin {args.name!r} into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
