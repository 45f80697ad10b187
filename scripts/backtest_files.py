"""Writes what `machi forecast backtest` reads: OUT/counts.csv (timestamp, location, count) and
OUT/holidays.csv (date,name) from the package `holidays`. Shared by the converters of real data
sets in this folder."""
from pathlib import Path

import holidays
import pandas as pd


def write_backtest_files(long: pd.DataFrame, out: Path, country: str, subdiv: str, years: range) -> None:
    """`long` has timestamp (tz-aware), location and count; rows given twice are dropped, not guessed."""
    out.mkdir(parents=True, exist_ok=True)
    long = long[~long.duplicated(["timestamp", "location"], keep=False)].sort_values(["location", "timestamp"])
    long = long.assign(timestamp=long["timestamp"].map(lambda t: t.isoformat()), count=long["count"].astype(int))
    long.to_csv(out / "counts.csv", index=False, columns=["timestamp", "location", "count"])
    days = holidays.country_holidays(country, subdiv=subdiv, years=years)
    with open(out / "holidays.csv", "w") as f:
        f.write("date,name\n")
        for d, name in sorted(days.items()):
            f.write(f"{d.isoformat()},{name.replace(',', ';')}\n")
    print(f"{len(long)} counts for {long['location'].nunique()} locations, {len(days)} holidays -> {out}")
