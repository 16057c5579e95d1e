"""Generate the example warehouse's data-logs tables under warehouse/data/ (Hive layout, ds=YYYY-MM-DD).

    python examples/photo_sharing/warehouse/make_data.py [--out DIR] [--users N] [--days N]

Deterministic (one seed): the same files on every machine. Small by default (300 users, 5 days, about
10,000 rows in all), so it runs in a second and nothing generated is committed. The tables are the ones
the warehouse SQL in this folder builds (app_events.sql, photo_uploads.sql, friend_requests.sql,
account_settings.sql) and datalogs/catalog.yaml reviews:

- app_events (Parquet, by day): what users did in the app; some actions are logged twice, seconds
  apart, by two app versions (the export collapses them with a count);
- photo_uploads (Parquet, by day): photos with caption and location, the moderator who reviewed each and
  a spam score (both withheld: other people's data, an integrity signal);
- friend_requests (CSV, by day): who asked whom to be friends;
- account_settings (Parquet, one snapshot, unpartitioned): privacy settings with lists of audiences.

Needs only DuckDB (a dependency of flowscope-datalogs).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

FIRST_USER = 1000
DEMO_USERS = (1001, 1042, 1137)  # the requesters of datalogs/requests.jsonl log more duplicates, to show them
START = datetime(2024, 6, 1, tzinfo=UTC)
EVENTS = [1, 2, 3, 4, 5, 6]  # labelled in datalogs/catalog.yaml
VERSIONS = ["ios 412.0", "ios 413.1", "android 398.2", "web 2024.05"]
CITIES = ["Paris, France", "Lyon, France", "Berlin, Germany", "Austin, USA", "Osaka, Japan", None]
CAPTIONS = ["Sunset at the lake", "Brunch <3", 'My "famous" lasagna', "=1+1 in my notebook", "Hike day", ""]
STATUSES = ["PENDING", "ACCEPTED", "IGNORED"]
SETTINGS = ["PRIVATE_ACCOUNT", "SHOW_LOCATION", "ALLOW_TAGS"]
AUDIENCES = ["FRIENDS", "FRIENDS_OF_FRIENDS", "PUBLIC"]


def _copy(
    con: duckdb.DuckDBPyConnection, rows: list[list[object]], columns: str, select: str, target: Path
) -> None:
    """Rows -> a typed Parquet file through DuckDB (CSV text in memory as the carrier)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    src = target.with_suffix(".csv.tmp")
    src.write_text(buf.getvalue(), encoding="utf-8")
    con.execute(
        f"COPY (SELECT {select} FROM read_csv('{src}', header=false, columns={{{columns}}})) "
        f"TO '{target}' (FORMAT parquet)"
    )
    src.unlink()


def generate(out: Path, users: int = 300, days: int = 5, seed: int = 18) -> None:
    rnd = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ids = list(range(FIRST_USER, FIRST_USER + users))
    photo_id = 5_000_000
    for d in range(days):
        day = START + timedelta(days=d)
        ds = day.date().isoformat()
        events, photos, friends = [], [], []
        for uid in ids:
            device = f"dev-{rnd.getrandbits(40):010x}"
            for _ in range(rnd.randint(0, 8)):
                at = day + timedelta(seconds=rnd.randint(0, 86399))
                kind, version = rnd.choice(EVENTS), rnd.choice(VERSIONS)
                row = [
                    uid,
                    at.strftime("%Y-%m-%d %H:%M:%S"),
                    kind,
                    version,
                    device,
                    rnd.randint(200, 900_000),
                ]
                events.append(row)
                if rnd.random() < (0.5 if uid in DEMO_USERS else 0.15):  # logged again by another app version
                    again = at + timedelta(seconds=rnd.randint(1, 4))
                    events.append(
                        [uid, again.strftime("%Y-%m-%d %H:%M:%S"), kind, rnd.choice(VERSIONS), device, row[5]]
                    )
            for _ in range(rnd.choice([0, 0, 1, 2])):
                photo_id += 1
                at = day + timedelta(seconds=rnd.randint(0, 86399))
                reviewer = rnd.choice([None, 7001, 7002, 7003])
                photos.append(
                    [
                        uid,
                        photo_id,
                        at.isoformat(),
                        rnd.choice(CAPTIONS),
                        rnd.choice(CITIES),
                        reviewer,
                        round(rnd.random(), 3),
                    ]
                )
            if rnd.random() < 0.2:
                other = rnd.choice([i for i in ids if i != uid])
                at = day + timedelta(seconds=rnd.randint(0, 86399))
                friends.append(
                    [
                        uid,
                        other,
                        rnd.choice(STATUSES),
                        at.strftime("%Y-%m-%d %H:%M:%S"),
                        rnd.choice(["true", "false"]),
                    ]
                )
        _copy(
            con,
            events,
            "'user_id': 'BIGINT', 'event_time': 'TIMESTAMP', 'event_type': 'INTEGER', 'client_version': 'VARCHAR', "
            "'device_id': 'VARCHAR', 'session_ms': 'BIGINT'",
            "*",
            out / "app_events" / f"ds={ds}" / "part-0.parquet",
        )
        _copy(
            con,
            photos,
            "'user_id': 'BIGINT', 'photo_id': 'BIGINT', 'uploaded_at': 'TIMESTAMPTZ', 'caption': 'VARCHAR', "
            "'location': 'VARCHAR', 'reviewed_by': 'BIGINT', 'spam_score': 'DOUBLE'",
            "*",
            out / "photo_uploads" / f"ds={ds}" / "part-0.parquet",
        )
        target = out / "friend_requests" / f"ds={ds}" / "part-0.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["from_user_id", "to_user_id", "status", "sent_at", "seen"])
            w.writerows(friends)
    settings = []
    for uid in ids:
        for name in rnd.sample(SETTINGS, rnd.randint(1, 3)):
            audiences = "|".join(rnd.sample(AUDIENCES, rnd.randint(1, 2)))
            changed = (START - timedelta(days=rnd.randint(1, 400))).date().isoformat()
            settings.append([uid, name, rnd.choice(["true", "false"]), changed, audiences])
    _copy(
        con,
        settings,
        "'user_id': 'BIGINT', 'setting': 'VARCHAR', 'enabled': 'BOOLEAN', 'updated_at': 'DATE', 'audiences': 'VARCHAR'",
        "user_id, setting, enabled, updated_at, string_split(audiences, '|') AS audiences",
        out / "account_settings" / "part-0.parquet",
    )
    con.close()
    for root, _dirs, files in os.walk(out):  # a warehouse of personal data: private to its owner
        os.chmod(root, 0o700)
        for f in files:
            os.chmod(os.path.join(root, f), 0o600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--days", type=int, default=5)
    args = parser.parse_args()
    generate(args.out, args.users, args.days)
    print(f"example warehouse written to {args.out}")


if __name__ == "__main__":
    main()
