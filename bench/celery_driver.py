"""The Celery bench's baseline: the same tasks driven from Python directly.

Usage: celery_driver.py <n> <queue>  (CELERY_BROKER_URL names the broker and backend;
PYTHONPATH holds examples/celery). Sends n `enrichd_tasks.add` tasks with apply_async, waits
for every result, and prints one JSON line: {seconds, latencies_ms} where a latency is the
task's date_done minus the moment it was sent (send to result recorded).
"""
import json
import sys
import time
from datetime import timezone

from enrichd_tasks import add

n, queue = int(sys.argv[1]), sys.argv[2]
t0 = time.time()
sent, results = [], []
for i in range(n):
    sent.append(time.time())
    results.append(add.apply_async((i, i), queue=queue))
for r in results:
    r.get(timeout=300)
seconds = time.time() - t0
latencies = [(r.date_done.replace(tzinfo=timezone.utc).timestamp() - s) * 1000 for r, s in zip(results, sent)]
for r in results:
    r.forget()
print(json.dumps({"seconds": seconds, "latencies_ms": latencies}))
