#!/usr/bin/env python3
"""W1 with DuckDB: rare external destinations on the last day, as one SQL query.

What it measures
----------------
The wall time DuckDB needs to answer, in batch, the question seldom answers
while streaming:

    For each network connection on the last day of the data, is its
    destination seen from fewer than 3 OTHER hosts in the previous 30 days?

over a telemetry file written by `seldom simulate` (JSON lines). The time
covers the whole query, reading and parsing the file included, because that is
what a batch engine has to do to give the answer; connecting to DuckDB and
printing are left out. It is a baseline for seldom's own figures, measured on
the same file and machine: a general-purpose columnar engine with a
hand-written query, not a tuned competitor.

Why DuckDB and why like this
----------------------------
DuckDB is the usual "just put it in SQL" answer, so it says what a
reasonable batch alternative costs. The file is read with `read_json` and an
explicit `columns` schema that names only the fields the question needs.
Against schema auto-detection (`format='newline_delimited'` alone, or
`read_ndjson`), which gave the same answer, it was the faster: on the 200-host,
35-day file (201 MB) at 2 threads the whole query took 0.25 s against 0.42 s,
since the reader then builds only the named fields. It also cannot silently
lose a field that the detection sample happened not to see. The records are
heterogeneous (Winlogbeat events and Azure Syslog rows) but every one fits
the schema, missing fields reading as NULL, so `ignore_errors` is not used
and no record is dropped without an error.

The question, exactly
---------------------
* Connections are Sysmon event 3, from two shapes of record:
  - Winlogbeat 8: `winlog.event_id` 3 on the Sysmon channel, host from
    `host.name` (else `winlog.computer_name`), time from
    `winlog.event_data.UtcTime` (else `@timestamp`), destination from
    `winlog.event_data.DestinationIp`;
  - Azure Syslog rows whose `SyslogMessage` is a Sysmon for Linux `<Event>`
    XML document: `<EventID>`, `<Computer>` (else the row's `Computer`),
    `<Data Name="UtcTime">` (else `TimeGenerated`), and
    `<Data Name="DestinationIp">`, pulled out with regexp_extract.
* A host is its name lower-cased and cut at the first dot, so
  `WS00026.corp.example` and `ws00026` are one host (as seldom names them).
* The destination is keyed by IP address. An IPv4-mapped IPv6 address is the
  IPv4 address, and a zone id (`%12`) is dropped. Internal destinations are
  left out entirely: 10/8, 172.16/12, 192.168/16, 127/8, 169.254/16, ::1,
  fe80::/10 and fc00::/7. So `connections_last_day` counts connections to
  external addresses only. The SQL keys an IPv6 address by its text as
  written, lower-cased (Sysmon writes the canonical form); the reference
  canonicalizes it, so input that wrote one address two ways would show up
  as a disagreement under `--check`, not pass unnoticed.
* The last day is the UTC calendar day of the latest event time in the file
  (any record, not only connections); the window is the 30 days before the
  start of that day, [start - 30 days, start).
* A connection from host h to d is rare when the number of distinct hosts
  other than h that connected to d in the window is below 3.

`--check` runs an independent pure-Python reference (json.loads per line,
`ipaddress`, `datetime`) and fails unless it gives the same two numbers.

Usage:
    python3 bench/duckdb_w1.py FILE --threads N [--check]

Prints one JSON line:
    {"seconds": ..., "connections_last_day": N, "rare_last_day": M,
     "threads": N, "duckdb": "<version>"}

DuckDB comes from PyPI at the version pinned in bench/duckdb-requirements.txt.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone

WINDOW_DAYS = 30
RARE_BELOW = 3

# Only the fields the question reads: naming them lets the JSON reader skip the
# rest of each record and fixes the schema instead of guessing it from a sample.
COLUMNS = """{
    '@timestamp': 'VARCHAR',
    'host': 'STRUCT(name VARCHAR)',
    'winlog': 'STRUCT(channel VARCHAR, event_id VARCHAR, computer_name VARCHAR,
                      event_data STRUCT(UtcTime VARCHAR, DestinationIp VARCHAR))',
    'TimeGenerated': 'VARCHAR',
    'Computer': 'VARCHAR',
    'SyslogMessage': 'VARCHAR'
}"""

OCTET = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4 = OCTET + r"(\." + OCTET + r"){3}"

# One statement, so the timing is one query. `events` is MATERIALIZED because
# it is used twice (the last day's bounds and the connections): without it the
# file could be scanned twice.
QUERY = r"""
WITH events AS MATERIALIZED (
    SELECT
        -- Linux rows: the Sysmon for Linux XML document in the Syslog message.
        SyslogMessage IS NOT NULL AND winlog IS NULL AS is_linux,
        CASE WHEN is_linux
             THEN regexp_extract(SyslogMessage, '<EventID>\s*(\d+)\s*</EventID>', 1)
             ELSE trim(winlog.event_id) END AS event_id,
        CASE WHEN is_linux
             THEN contains(SyslogMessage, 'Linux-Sysmon')
             ELSE winlog.channel = 'Microsoft-Windows-Sysmon/Operational' END AS is_sysmon,
        lower(split_part(
            CASE WHEN is_linux
                 THEN coalesce(nullif(regexp_extract(SyslogMessage, '<Computer>([^<]*)</Computer>', 1), ''),
                               Computer)
                 ELSE coalesce(host.name, winlog.computer_name) END,
            '.', 1)) AS host,
        -- Session TimeZone is UTC, so TIMESTAMPTZ -> TIMESTAMP is UTC wall time
        -- and an explicit offset in a fallback timestamp is honoured.
        CAST(coalesce(
            CASE WHEN is_linux
                 THEN try_cast(nullif(regexp_extract(SyslogMessage, '<Data Name="UtcTime">([^<]*)</Data>', 1), '')
                               AS TIMESTAMPTZ)
                 ELSE try_cast(winlog.event_data.UtcTime AS TIMESTAMPTZ) END,
            try_cast(coalesce("@timestamp", TimeGenerated) AS TIMESTAMPTZ)) AS TIMESTAMP) AS ts,
        -- Destination as text: zone id dropped, lower case, IPv4-mapped -> IPv4.
        regexp_replace(
            lower(trim(split_part(
                CASE WHEN is_linux
                     THEN regexp_extract(SyslogMessage, '<Data Name="DestinationIp">([^<]*)</Data>', 1)
                     ELSE winlog.event_data.DestinationIp END,
                '%', 1))),
            '^::ffff:(\d{1,3}(\.\d{1,3}){3})$', '\1') AS dst
    FROM read_json(?, format = 'newline_delimited', columns = """ + COLUMNS + r""")
),
conns AS (
    SELECT host, dst, ts FROM events
    WHERE is_sysmon AND event_id = '3' AND host <> '' AND ts IS NOT NULL
),
-- External destinations only. There is no INET type without downloading an
-- extension, so the ranges are regular expressions: a dotted quad whose octets
-- are 0-255 without leading zeros (what Python's ipaddress accepts), then the
-- private/loopback/link-local prefixes; IPv6 by its leading hextet.
external AS (
    SELECT host, dst, ts FROM conns
    WHERE CASE
        WHEN regexp_full_match(dst, '""" + IPV4 + r"""') THEN
            NOT regexp_matches(dst, '^(10|127)\.|^172\.(1[6-9]|2\d|3[01])\.|^192\.168\.|^169\.254\.')
        WHEN contains(dst, ':') AND regexp_full_match(dst, '[0-9a-f:.]+') THEN
            NOT (dst = '::1'
                 OR regexp_matches(dst, '^fe[89ab][0-9a-f]:')    -- fe80::/10
                 OR regexp_matches(dst, '^f[cd][0-9a-f]{2}:'))   -- fc00::/7
        ELSE false                                               -- not an address
    END
),
bounds AS (
    SELECT date_trunc('day', max(ts)) AS day_start FROM events
),
-- Who reached each destination in the window: a connection's count of OTHER
-- hosts is the destination's host count, less one if its own host is among
-- them. That avoids a join of every last-day connection with the window.
window_pairs AS (
    SELECT DISTINCT e.dst, e.host
    FROM external e, bounds b
    WHERE e.ts >= b.day_start - INTERVAL (""" + str(WINDOW_DAYS) + r""") DAY AND e.ts < b.day_start
),
window_hosts AS (
    SELECT dst, count(*) AS hosts FROM window_pairs GROUP BY dst
),
last_day AS (
    SELECT e.host, e.dst
    FROM external e, bounds b
    WHERE e.ts >= b.day_start AND e.ts < b.day_start + INTERVAL 1 DAY
)
SELECT
    count(*) AS connections_last_day,
    count(*) FILTER (
        WHERE coalesce(w.hosts, 0) - CASE WHEN p.host IS NULL THEN 0 ELSE 1 END < """ + str(RARE_BELOW) + r"""
    ) AS rare_last_day
FROM last_day l
LEFT JOIN window_hosts w ON w.dst = l.dst
LEFT JOIN window_pairs p ON p.dst = l.dst AND p.host = l.host
"""


def run_duckdb(path: str, threads: int) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    # UTC so that day boundaries are UTC days and TIMESTAMPTZ casts give UTC.
    con.execute("SET TimeZone = 'UTC'")
    start = time.perf_counter()
    connections, rare = con.execute(QUERY, [path]).fetchone()
    seconds = time.perf_counter() - start
    return {
        "seconds": round(seconds, 4),
        "connections_last_day": connections,
        "rare_last_day": rare,
        "threads": threads,
        "duckdb": duckdb.__version__,
    }


# ---------------------------------------------------------------------------
# Reference: the same question in plain Python, written from the definitions
# above rather than from the SQL, so that agreement means something.

XML_FIELD = {
    "event_id": re.compile(r"<EventID>\s*(\d+)\s*</EventID>"),
    "computer": re.compile(r"<Computer>([^<]*)</Computer>"),
    "utc": re.compile(r'<Data Name="UtcTime">([^<]*)</Data>'),
    "dst": re.compile(r'<Data Name="DestinationIp">([^<]*)</Data>'),
}
INTERNAL = [
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8",
              "169.254.0.0/16", "::1/128", "fe80::/10", "fc00::/7")
]


def parse_time(text):
    """UTC naive datetime from Sysmon's UtcTime or an ISO timestamp, else None."""
    if not text:
        return None
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if t.tzinfo is not None:
        t = t.astimezone(timezone.utc).replace(tzinfo=None)
    return t


def external_key(text):
    """The destination key, or None when internal or not an address."""
    if not text:
        return None
    try:
        ip = ipaddress.ip_address(text.strip().split("%")[0])
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip.version == net.version and ip in net for net in INTERNAL):
        return None
    return str(ip)


def host_key(name):
    return (name or "").split(".")[0].lower() or None


def reference(path: str) -> tuple[int, int]:
    latest = None
    conns = []  # (time, host, destination) of external Sysmon 3 connections
    with open(path, "rb") as f:
        for line in f:
            rec = json.loads(line)
            winlog = rec.get("winlog")
            msg = rec.get("SyslogMessage")
            if winlog is not None:
                data = winlog.get("event_data") or {}
                t = parse_time(data.get("UtcTime")) or parse_time(rec.get("@timestamp"))
                is_conn = (winlog.get("channel") == "Microsoft-Windows-Sysmon/Operational"
                           and str(winlog.get("event_id")) == "3")
                host = host_key((rec.get("host") or {}).get("name") or winlog.get("computer_name"))
                dst = data.get("DestinationIp")
            elif msg is not None:
                found = {k: rx.search(msg) for k, rx in XML_FIELD.items()}
                val = {k: (m.group(1) if m else None) for k, m in found.items()}
                t = parse_time(val["utc"]) or parse_time(rec.get("TimeGenerated"))
                is_conn = "Linux-Sysmon" in msg and val["event_id"] == "3"
                host = host_key(val["computer"] or rec.get("Computer"))
                dst = val["dst"]
            else:
                t = parse_time(rec.get("@timestamp") or rec.get("TimeGenerated"))
                is_conn = False
            if t is not None and (latest is None or t > latest):
                latest = t
            if is_conn and t is not None and host:
                key = external_key(dst)
                if key is not None:
                    conns.append((t, host, key))

    if latest is None:
        return 0, 0
    day_start = datetime(latest.year, latest.month, latest.day)
    window_start = day_start - timedelta(days=WINDOW_DAYS)
    day_end = day_start + timedelta(days=1)
    seen = defaultdict(set)
    for t, host, key in conns:
        if window_start <= t < day_start:
            seen[key].add(host)
    total = rare = 0
    for t, host, key in conns:
        if day_start <= t < day_end:
            total += 1
            if len(seen[key] - {host}) < RARE_BELOW:
                rare += 1
    return total, rare


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("file", help="JSON lines from `seldom simulate` (telemetry.jsonl)")
    ap.add_argument("--threads", type=int, required=True, help="DuckDB threads (SET threads)")
    ap.add_argument("--check", action="store_true",
                    help="also run the pure-Python reference and fail if it disagrees")
    args = ap.parse_args()

    result = run_duckdb(args.file, args.threads)
    print(json.dumps(result), flush=True)

    if args.check:
        want = reference(args.file)
        got = (result["connections_last_day"], result["rare_last_day"])
        agree = got == want
        print(f"check: duckdb {got} reference {want}: {'agree' if agree else 'DISAGREE'}",
              file=sys.stderr)
        return 0 if agree else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
