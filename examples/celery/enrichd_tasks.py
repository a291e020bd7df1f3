"""Celery tasks that enrichd sends work to (a stock Celery 5 worker runs them).

Run a worker for enrichd:

    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 \\
    PYTHONPATH=examples/celery \\
    python3 -m celery -A enrichd_tasks worker -Q celery -c 4 -l INFO

enrichd sends protocol 2 messages with JSON bodies and reads results from the Redis result
backend, so the app below keeps JSON everywhere and reports STARTED (task_track_started).
Retries, delays and timeouts are enrichd's: a task here just raises, and enrichd decides
whether the job gets another attempt (a new task with a new id).
"""
import os
import time

from celery import Celery

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or BROKER_URL

app = Celery("enrichd_tasks", broker=BROKER_URL, backend=RESULT_BACKEND)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # enrichd marks the job running when it sends the task; STARTED says a worker has it.
    task_track_started=True,
    # One task at a time per process slot: a task waits in Redis (where enrichd can take it
    # back on cancel) rather than in a worker's prefetch buffer.
    worker_prefetch_multiplier=1,
    # Results are read by enrichd within milliseconds and then deleted; a day is a safety margin.
    result_expires=86400,
    broker_connection_retry_on_startup=True,
)


@app.task(name="enrichd_tasks.add")
def add(x, y):
    """Returns x + y."""
    return x + y


@app.task(name="enrichd_tasks.fail")
def fail(message="it went wrong"):
    """Raises ValueError(message): the job fails with that type and message."""
    raise ValueError(message)


@app.task(bind=True, name="enrichd_tasks.progress")
def progress(self, total=5, delay=0.05):
    """Counts to total, reporting PROGRESS {done, total} at each step."""
    for done in range(1, total + 1):
        time.sleep(delay)
        self.update_state(state="PROGRESS", meta={"done": done, "total": total})
    return {"counted": total}


@app.task(name="enrichd_tasks.fail_once")
def fail_once(key):
    """Fails the first time it runs for a key, succeeds after (enrichd's retry sends it again)."""
    runs = app.backend.client.incr(f"enrichd-example:fail-once:{key}")
    app.backend.client.expire(f"enrichd-example:fail-once:{key}", 3600)
    if runs == 1:
        raise RuntimeError(f"first run for {key} fails on purpose")
    return {"key": key, "runs": runs}


@app.task(name="enrichd_tasks.sleep")
def sleep(seconds=1.0, mark=None):
    """Sleeps; with mark, records in the backend's Redis that it ran (tests prove a cancelled task never did)."""
    if mark:
        app.backend.client.set(f"enrichd-example:ran:{mark}", "1", ex=3600)
    time.sleep(seconds)
    return seconds


@app.task(name="enrichd_tasks.score_lead")
def score_lead(job_id, tenant_id, **lead):
    """A CELERY_ROUTES example: called with kwargs {job_id, tenant_id, ...payload}."""
    fields = sum(1 for v in lead.values() if v not in (None, ""))
    return {"job_id": job_id, "tenant_id": tenant_id, "fields": fields}
