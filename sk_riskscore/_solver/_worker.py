"""A search worker process, started by :class:`~sk_riskscore._solver._parallel.WorkerPool`
for a search with ``n_jobs`` > 1: it reads its key from standard input,
connects back and serves the coordinator's rounds until told to stop.
"""

from ._branch_and_bound import serve_worker
from ._parallel import connect_worker, ignore_interrupts

__all__ = ["main"]


def main() -> None:
    ignore_interrupts()
    connection, index, payload = connect_worker()
    serve_worker(connection, index, *payload)
