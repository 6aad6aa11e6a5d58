"""Claiming job rows: workers racing for the same rows each get different ones, every row exactly once (on
PostgreSQL through SKIP LOCKED and a compare-and-set; on SQLite, whose writers queue, the compare-and-set)."""

import threading
import uuid
from collections import Counter

from django.db import connection
from django.db.models import Q

from accounts.models import AccountDeletion, DeletionState
from accounts.services.jobs import job_claim_next

WORKERS = 4
ROWS = 12


def test_racing_workers_claim_every_due_row_exactly_once(transactional_db):
    for _ in range(ROWS):
        AccountDeletion.objects.create(subject_id=uuid.uuid4())
    claimed: list = []
    start = threading.Barrier(WORKERS)

    def worker() -> None:
        try:
            start.wait()
            while claim := job_claim_next(model=AccountDeletion, due=Q(state=DeletionState.PENDING), exclude=[]):
                claimed.append(claim.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(Counter(claimed).values()) == [1] * ROWS
    assert set(claimed) == set(AccountDeletion.objects.values_list("pk", flat=True))
    assert not AccountDeletion.objects.filter(claim_token__isnull=True).exists()
