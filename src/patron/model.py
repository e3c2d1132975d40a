"""`patron model fit`: BG/NBD and Gamma-Gamma for analysts, from CSV files.

--summary FILE: customer_id,frequency,recency,T,monetary_value (any one time unit).
--transactions FILE: customer_id,date,amount (dates ISO-8601; summarized in --unit).
"""

from __future__ import annotations

import csv
from dataclasses import asdict
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np

from chalicelib.analytics import btyd

SUMMARY_COLUMNS = ("customer_id", "frequency", "recency", "T", "monetary_value")
TRANSACTION_COLUMNS = ("customer_id", "date", "amount")
UNIT_DAYS = {"days": 1.0, "weeks": 7.0}


class InputError(ValueError):
    pass


def _rows(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path}: missing columns {', '.join(missing)}; expected {','.join(columns)}")
        return list(reader)


def _number(value: str, column: str, line: int) -> float:
    try:
        number = Decimal(value)
    except InvalidOperation as exc:
        raise InputError(f"line {line}: {column} {value!r} is not a number") from exc
    if not number.is_finite():
        raise InputError(f"line {line}: {column} {value!r} is not finite")
    return float(number)


def read_summary(path: Path) -> dict[str, np.ndarray]:
    rows = _rows(path, SUMMARY_COLUMNS)
    out: dict[str, Any] = {"customer_id": np.array([r["customer_id"] for r in rows])}
    for column in SUMMARY_COLUMNS[1:]:
        out[column] = np.array([_number(r[column], column, i + 2) for i, r in enumerate(rows)])
    return out


def _day(value: str, line: int) -> float:
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                raise InputError(f"line {line}: timestamp {value!r} needs an offset (or give a date)")
        return parsed.astimezone(UTC).timestamp() / 86400
    except ValueError as exc:
        raise InputError(f"line {line}: {value!r} is not an ISO-8601 date") from exc
    except OverflowError as exc:  # an offset that takes it off the calendar in UTC
        raise InputError(f"line {line}: {value!r} is outside the calendar in UTC") from exc


def read_transactions(path: Path, unit: str, observation_end: str | None) -> dict[str, np.ndarray]:
    rows = _rows(path, TRANSACTION_COLUMNS)
    if not rows:
        raise InputError(f"{path}: no transactions")
    scale = UNIT_DAYS[unit]
    days = np.array([_day(r["date"], i + 2) for i, r in enumerate(rows)])
    origin = float(np.floor(days.min()))
    times = (days - origin) / scale
    end = None if observation_end is None else (_day(observation_end, 0) - origin) / scale
    amounts = np.array([_number(r["amount"], "amount", i + 2) for i, r in enumerate(rows)])
    return btyd.summarize_transactions(np.array([r["customer_id"] for r in rows]), times, amounts, end)


def fit(summary: dict[str, np.ndarray], horizon: float | None) -> tuple[dict[str, Any], btyd.Scores | None]:
    x, tx, T, m = (summary[c] for c in SUMMARY_COLUMNS[1:])
    enough, why = btyd.enough_data(x)
    result: dict[str, Any] = {
        "customers": len(x),
        "repeat_buyers": int(np.sum(x > 0)),
        "bgnbd": None,
        "gamma_gamma": None,
    }
    scores = None
    if enough:
        bg = btyd.fit_bgnbd(x, tx, T)
        gg = btyd.fit_gamma_gamma(x, m)
        result.update(method="bgnbd+gamma_gamma", bgnbd=asdict(bg), gamma_gamma=asdict(gg))
        if horizon is not None:
            scores, _ = btyd.score(x, tx, T, m, horizon, bg, gg)
    else:
        result.update(method="heuristic", note=f"not fitted: {why}; scores use transparent heuristics")
        if horizon is not None:
            scores, _ = btyd.score(x, tx, T, m, horizon)
    return result, scores


def write_scores(path: Path, customer_ids: np.ndarray, scores: btyd.Scores) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "p_alive", "expected_purchases", "expected_avg_value", "clv"])
        for row in zip(
            customer_ids,
            scores.p_alive,
            scores.expected_purchases,
            scores.expected_avg_value,
            scores.clv,
            strict=True,
        ):
            cid, alive, purchases, value, clv = row
            writer.writerow([cid, f"{alive:.6f}", f"{purchases:.6f}", f"{value:.2f}", f"{clv:.2f}"])
