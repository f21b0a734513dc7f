"""Hand-built agencies for the optimizer tests: a client and a worker with sensible defaults."""

from __future__ import annotations

from datetime import date, timedelta

from caseload.domain import Agency, Client, NeedLevel, Policy, Status, Worker

AS_OF = date(2027, 1, 15)


def worker(worker_id: str = "W1", **kw) -> Worker:
    fields = {"fte": 1.0, "languages": ("en",)}
    fields.update(kw)
    return Worker(worker_id=worker_id, **fields)


def client(client_id: str = "C1", **kw) -> Client:
    fields = {"need_level": NeedLevel.LOW, "languages": ("en",), "referral_date": AS_OF - timedelta(days=30)}
    fields.update(kw)
    return Client(client_id=client_id, **fields)


def active(client_id: str, worker_id: str, **kw) -> Client:
    kw.setdefault("intake_date", AS_OF - timedelta(days=200))
    return client(client_id, status=Status.ACTIVE, worker_id=worker_id, **kw)


def agency(clients: list[Client], workers: list[Worker], **policy) -> Agency:
    return Agency(clients=clients, workers=workers, policy=Policy(**policy), as_of=AS_OF)


def caseload(worker_id: str, n_low: int = 0, n_high: int = 0, prefix: str = "A") -> list[Client]:
    """Active clients filling a worker: n_low low-need and n_high high-need ones."""
    out = [active(f"{prefix}{worker_id}L{n}", worker_id) for n in range(n_low)]
    out += [active(f"{prefix}{worker_id}H{n}", worker_id, need_level=NeedLevel.HIGH) for n in range(n_high)]
    return out
