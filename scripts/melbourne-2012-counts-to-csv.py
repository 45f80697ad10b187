#!/usr/bin/env python3
"""Converts the City of Melbourne hourly pedestrian counts of 2012 to February 2015 (39 sensors)
that the repository resbaz/pedestriancounts keeps as pedestriancounts_melbourne_2906.zip into the
CSV that `machi forecast backtest --csv` reads, plus the matching holidays file for `--holidays`.

    pip install holidays
    curl -LO https://github.com/resbaz/pedestriancounts/raw/master/pedestriancounts_melbourne_2906.zip
    python3 scripts/melbourne-2012-counts-to-csv.py pedestriancounts_melbourne_2906.zip /tmp/mel12
    node bin/machi.js forecast backtest --csv /tmp/mel12/counts.csv --holidays /tmp/mel12/holidays.csv

The file gives the local date and hour (Date, Hour): the commuter peaks stay at 8:00 and 17:00
summer and winter, so they are clock time. They become ISO 8601 with the Australia/Melbourne
offset of that hour. The hour repeated when daylight saving ends is in the file once, taken as the
first (daylight) one; the hour skipped when it starts does not exist, yet 2012 has rows for it,
which are dropped.
"""
import sys
import zipfile
from pathlib import Path

import pandas as pd
from backtest_files import write_backtest_files

TZ = "Australia/Melbourne"


def main(archive: Path, out: Path) -> None:
    with zipfile.ZipFile(archive) as z, z.open("pedestriancounts_melbourne.csv") as f:
        df = pd.read_csv(f).dropna(subset=["PedestrianCount"])
    df = df[df["SensorName"] != "<undefined>"]
    naive = pd.to_datetime(df["Date"], format="%d-%b-%Y") + pd.to_timedelta(df["Hour"], unit="h")
    local = naive.dt.tz_localize(TZ, ambiguous=True, nonexistent="NaT")
    skipped = local.isna()
    print(f"{skipped.sum()} rows at an hour that daylight saving skips, dropped")
    df, local = df[~skipped], local[~skipped]
    long = pd.DataFrame({"timestamp": local, "location": df["SensorName"], "count": df["PedestrianCount"]})
    write_backtest_files(long, out, "AU", "VIC", range(local.dt.year.min(), local.dt.year.max() + 1))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/mel12"))
