#!/usr/bin/env python3
"""Converts the Melbourne pedestrian counts that the R package tsibble ships as data/pedestrian.rda
(City of Melbourne's counting system: 4 sensors, hourly, 2015-2016) into the CSV that
`machi forecast backtest --csv` reads, plus the matching holidays file for `--holidays`.

    pip install pyreadr holidays
    curl -LO https://github.com/tidyverts/tsibble/raw/main/data/pedestrian.rda
    python3 scripts/tsibble-pedestrian-to-csv.py pedestrian.rda /tmp/mel
    node bin/machi.js forecast backtest --csv /tmp/mel/counts.csv --holidays /tmp/mel/holidays.csv

Writes OUT/counts.csv (timestamp, location, count: ISO 8601 start of the hour with its
Australia/Melbourne offset) and OUT/holidays.csv (date,name: Victoria's public holidays, from the
package `holidays`). The data stays out of the repository.

The file's Date_Time is in UTC; its Date and Time columns are the local date and hour, which the
conversion checks against Australia/Melbourne's offsets (daylight saving included) before writing.
"""
import sys
from pathlib import Path

import pandas as pd
import pyreadr
from backtest_files import write_backtest_files

TZ = "Australia/Melbourne"


def main(rda: Path, out: Path) -> None:
    df = pyreadr.read_r(str(rda))["pedestrian"].dropna(subset=["Count"])
    local = pd.to_datetime(df["Date_Time"]).dt.tz_localize("UTC").dt.tz_convert(TZ)
    if not ((local.dt.hour == df["Time"]).all() and (local.dt.strftime("%Y-%m-%d") == df["Date"].astype(str)).all()):
        sys.exit("Date_Time does not match Date and Time in Australia/Melbourne time")
    long = pd.DataFrame({"timestamp": local, "location": df["Sensor"], "count": df["Count"].astype(int)})
    write_backtest_files(long, out, "AU", "VIC", range(local.dt.year.min(), local.dt.year.max() + 1))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "pedestrian.rda"), Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/mel"))
