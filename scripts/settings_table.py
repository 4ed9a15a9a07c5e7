"""Print (or write into README.md) the table of synthesis settings, from SynthConfig's own
field metadata: the one place each default and meaning is written.

    .venv/bin/python scripts/settings_table.py           # print
    .venv/bin/python scripts/settings_table.py --write   # update README.md between the markers
"""
from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
START, END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"


def table() -> str:
    from notesynth.config import SynthConfig

    rows = ["| setting (TOML key; flag: `--key-with-dashes`) | default | meaning |", "|---|---|---|"]
    for f in fields(SynthConfig):
        default = "–" if f.default in (None, "") else f"`{f.default}`"
        rows.append(f"| `{f.name}` | {default} | {f.metadata['help']} |")
    return "\n".join(rows) + "\n"


def main() -> None:
    text = table()
    if "--write" not in sys.argv:
        print(text, end="")
        return
    readme = ROOT / "README.md"
    body = readme.read_text(encoding="utf-8")
    head, rest = body.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{text}{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
