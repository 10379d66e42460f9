"""Generated inputs of the benchmarks: a large payroll export and roster rows shaped like the snapshot table."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
PAYROLL_TEMPLATE = REPO_ROOT / "include" / "payroll" / "payroll_clean.csv"
PAYROLL_MAPPING = REPO_ROOT / "include" / "payroll" / "mapping.yaml"

#: Columns of ``charthop_roster_snapshot`` for the operator's default fields, with PostgreSQL types as
#: ``PostgresDialect.types`` gives them.
SNAPSHOT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("snapshot_date", "DATE"),
    ("job_id", "VARCHAR(64)"),
    ("run_id", "VARCHAR(250)"),
    ("loaded_at", "TIMESTAMPTZ"),
    ("row_hash", "VARCHAR(64)"),
    ("row_data", "JSONB"),
    ("title", "TEXT"),
    ("open", "TEXT"),
    ("person_id", "TEXT"),
    ("name_first", "TEXT"),
    ("name_last", "TEXT"),
    ("contact_work_email", "TEXT"),
    ("contact_employee", "TEXT"),
    ("manager", "TEXT"),
    ("department_name", "TEXT"),
    ("location_name", "TEXT"),
    ("work_address_country", "TEXT"),
    ("employment", "TEXT"),
    ("start_date", "DATE"),
    ("base_comp_interval", "TEXT"),
    ("base_comp_amount", "NUMERIC"),
    ("base_comp_currency", "TEXT"),
    ("base_comp_annualized_amount", "NUMERIC"),
    ("base_comp_annualized_currency", "TEXT"),
)

_TITLES = ("Software Engineer", "Account Executive", "Designer", "Recruiter", "Data Analyst", "QA Engineer")
_DEPARTMENTS = ("Engineering", "Sales", "Product", "People", "Data", "Support")
_LOCATIONS = (("New York HQ", "US"), ("Berlin", "DE"), ("Bengaluru", "IN"), ("Tokyo", "JP"), ("Tel Aviv", "IL"))
_NAMES = (("Zoë", "Dubois"), ("伟", "李"), ("יעל", "לוי"), ("Conor", "O'Brien"), ("Amélie", "D'Arcy-Dubois"))
_CURRENCIES = ("USD", "EUR", "INR", "JPY", "ILS")


def write_payroll_export(path: Path, rows: int) -> None:
    """Write a payroll export of ``rows`` data rows with the columns and values of ``payroll_clean.csv``.

    The template's rows repeat in turn; each copy gets its own e-mail address and employee number,
    because the payroll preparation rejects duplicate match keys.
    """
    with PAYROLL_TEMPLATE.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        templates = list(reader)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        for index in range(rows):
            row = dict(templates[index % len(templates)])
            local, domain = row["Work Email"].split("@", 1)
            row["Work Email"] = f"{local}.{index}@{domain}"
            row["Employee Number"] = f"{index:07d}"
            writer.writerow(row)


def snapshot_records(count: int, snapshot_date: str = "2026-12-04", seed: int = 1) -> list[list[Any]]:
    """Return ``count`` rows for ``SNAPSHOT_COLUMNS``, with the Python types ``SnapshotLoad.write`` passes."""
    rng = random.Random(seed)
    loaded_at = dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.timezone.utc).isoformat(timespec="seconds")
    records: list[list[Any]] = []
    for index in range(count):
        job_id = f"{index:024x}"
        first, last = rng.choice(_NAMES)
        location, country = rng.choice(_LOCATIONS)
        currency = rng.choice(_CURRENCIES)
        amount = Decimal(rng.randrange(30_000, 300_000))
        filled = rng.random() < 0.9
        start = (dt.date(2018, 1, 1) + dt.timedelta(days=rng.randrange(3000))).isoformat()
        fields: dict[str, Any] = {
            "jobId": job_id,
            "title": rng.choice(_TITLES),
            "open": "filled" if filled else "open",
            "personId": f"{index + 1:024x}" if filled else None,
            "name.first": first if filled else None,
            "name.last": last if filled else None,
            "contact.workEmail": f"employee{index:06d}@acme.example.com" if filled else None,
            "contact.employee": f"{index:06d}" if filled else None,
            "manager": f"{index // 8:024x}" if index else None,
            "department.name": rng.choice(_DEPARTMENTS),
            "location.name": location,
            "workAddress.country": country,
            "employment": "FULL",
            "startDate": start if filled else None,
            "baseComp": {"interval": "YEARLY", "pay": {"amount": int(amount), "currency": currency, "places": 0}},
            "baseComp.annualized": {"amount": int(amount), "currency": currency, "places": 0},
        }
        row_data = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        records.append(
            [
                snapshot_date,
                job_id,
                "bench",
                loaded_at,
                hashlib.sha256(row_data.encode()).hexdigest(),
                row_data,
                fields["title"],
                fields["open"],
                fields["personId"],
                fields["name.first"],
                fields["name.last"],
                fields["contact.workEmail"],
                fields["contact.employee"],
                fields["manager"],
                fields["department.name"],
                location,
                country,
                "FULL",
                fields["startDate"],
                "YEARLY",
                amount,
                currency,
                amount,
                currency,
            ]
        )
    return records
