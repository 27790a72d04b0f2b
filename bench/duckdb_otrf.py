#!/usr/bin/env python3
"""W2 with DuckDB: rare external destinations in the real OTRF recordings.

The question: which external destination IPs of Sysmon network connections
(event 3) were contacted from fewer than 3 distinct hosts? It is narrower
than seldom's (no process chain, DNS, catalog, dedup or event-time
semantics): a floor for what reading these files costs a general engine.

The files are the OTRF JSON lines unpacked once (`bench/run` does it), read
with `read_json` and an explicit column list naming only the fields the
question needs, as `bench/duckdb_w1.py` does: the reader then builds only
those. The recordings are in several layouts; this counts the flat layout
(top-level `EventID`, `Hostname`, `DestinationIp`, 124 of the 153 files),
the others reading as NULL. Files that are not JSON lines (CloudTrail
arrays, a few broken lines) are passed over with `ignore_errors`.

usage: duckdb_otrf.py FOLDER --threads N     prints the number of rare IPs
"""

import argparse
import sys

import duckdb

QUERY = """
WITH connections AS (
    SELECT lower(split_part(Hostname, '.', 1)) AS host, DestinationIp AS ip
    FROM read_json(?, format = 'newline_delimited', ignore_errors = true,
                   union_by_name = false,
                   columns = {EventID: 'VARCHAR', Hostname: 'VARCHAR',
                              Channel: 'VARCHAR', DestinationIp: 'VARCHAR'})
    WHERE EventID = '3' AND Channel ILIKE '%sysmon%' AND DestinationIp IS NOT NULL
)
SELECT count(*) FROM (
    SELECT ip FROM connections
    WHERE NOT (ip LIKE '10.%' OR ip LIKE '192.168.%' OR ip LIKE '127.%'
               OR ip LIKE '169.254.%' OR regexp_matches(ip, '^172\\.(1[6-9]|2[0-9]|3[01])\\.')
               OR ip LIKE 'fe80:%' OR ip = '::1' OR ip LIKE 'fc%' OR ip LIKE 'fd%')
    GROUP BY ip HAVING count(DISTINCT host) < 3
)
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    rare = con.execute(QUERY, [f"{args.folder}/**/*.json"]).fetchone()[0]
    print(rare)
    return 0


if __name__ == "__main__":
    sys.exit(main())
