"""Shared fixtures: small data-contract folders written on the fly (no personal data is committed)."""

from __future__ import annotations

from pathlib import Path

import pytest

WORKERS_CSV = """worker_id,fte,languages,french,areas,latitude,longitude
w1,1,ar;en,false,,45.42,-75.69
w2,0.5,fr;en,true,K1N,45.43,-75.68
"""

CLIENTS_CSV = """client_id,need_level,languages,status,worker_id,referral_date,french_service,latitude,longitude
c1,high,Arabic;English,waiting,,2026-10-01,no,45.40,-75.70
c2,low,fr,active,w2,2026-01-05,yes,45.41,-75.69
"""


def write_folder(folder: Path, clients: str = CLIENTS_CSV, workers: str = WORKERS_CSV,
                 policy: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "clients.csv").write_text(clients, encoding="utf-8")
    (folder / "workers.csv").write_text(workers, encoding="utf-8")
    if policy is not None:
        (folder / "policy.yaml").write_text(policy, encoding="utf-8")
    return folder


@pytest.fixture
def good_folder(tmp_path: Path) -> Path:
    return write_folder(tmp_path / "agency")
