"""The job system under races, faults and hostile rows: atomic claims, one executor per job table, recovery of
only the jobs whose worker is gone (all of them, oldest first), the reaper, and allow-listed targets."""

import os, signal, socket, subprocess, sys, textwrap, threading, time
from pathlib import Path

import pytest
from sqlalchemy import event, insert, update
from sqlalchemy.orm import Session

from cryptoml.jobs import JobManager, JobRow, JobStatus, JobStore, JobTableBusy, run_job

ROOT = Path(__file__).resolve().parents[1]


def _wait(store, job_id, states, timeout=60):
    t0 = time.time()
    while time.time() - t0 < timeout:
        j = store.get(job_id)
        if j.status.value in states:
            return j
        time.sleep(0.05)
    raise TimeoutError(f"{job_id}: {store.get(job_id)}")


# --- item 6: one claim wins -----------------------------------------------------------------------------------------
def test_two_claimers_one_attempt(tmp_path):
    "Two workers (two connections) claim one queued job at the same moment: exactly one gets it."
    url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    a, b = JobStore(url), JobStore(url)
    job = a.create("demo", "cryptoml.testing:demo_job")
    barrier = threading.Barrier(2, timeout=5)

    def meet_before_writing(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE CRYPTOML_JOBS"):
            try:
                barrier.wait()  # both claimers have read whatever they read, now both write
            except threading.BrokenBarrierError:
                pass

    for s in (a, b):
        event.listen(s.engine, "before_cursor_execute", meet_before_writing)
    got = {}
    claim = lambda k, s: got.__setitem__(k, s.claim(job.id, k))
    threads = [threading.Thread(target=claim, args=ks) for ks in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(got.values(), key=str) == [1, None], got
    assert a.get(job.id).attempt == 1


# --- item 7: one executor per table; recovery of gone workers only; every queued job ----------------------------------
def test_second_manager_on_a_table_is_refused(tmp_path):
    db = tmp_path / "jobs.sqlite"
    first = JobManager(db, "local")
    first.start()
    with pytest.raises(JobTableBusy, match=r"already served by another job executor \(pid \d+"):
        JobManager(db, "local").start()
    first.shutdown()
    second = JobManager(db, "local")
    second.start()  # the lease was released
    second.shutdown()


def test_lease_of_a_killed_server_is_free_at_once(tmp_path):
    "The lock file lease is released by the OS when its holder dies, even by SIGKILL."
    db = tmp_path / "jobs.sqlite"
    code = f"from cryptoml.jobs import JobManager; JobManager({str(db)!r}, 'local').start(); print('up', flush=True)"
    code += "; import time; time.sleep(300)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == "up"
        with pytest.raises(JobTableBusy, match=f"pid {proc.pid}"):
            JobManager(db, "local").start()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    m = JobManager(db, "local")
    m.start()
    m.shutdown()


def test_row_lease_refuses_then_takes_over_a_silent_holder(tmp_path):
    "On databases without a lock file the lease is a heartbeat row, taken over only once its holder is silent."
    db = tmp_path / "jobs.sqlite"
    first = JobManager(db, "local", lease="row", stale_after=60)
    first.start()
    with pytest.raises(JobTableBusy, match="last heartbeat"):
        JobManager(db, "local", lease="row", stale_after=60).start()
    first._stop.set()  # the holder falls silent (its monitor no longer renews)
    first._thread.join(5)
    late = JobManager(db, "local", lease="row", stale_after=0.5)
    time.sleep(0.6)
    late.start()
    assert late.health().lease == "held" and not first._lease.renew()
    late.shutdown()


def test_recovery_leaves_jobs_whose_worker_is_alive(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    dead_pid = int(
        subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout
    )
    gone = store.create("demo", "cryptoml.testing:demo_job", resumable=True)
    alive = store.create("demo", "cryptoml.testing:demo_job", resumable=True)
    far = store.create("demo", "cryptoml.testing:demo_job")
    store.claim(gone.id, f"{socket.gethostname()}:{dead_pid}")
    store.claim(
        alive.id, f"{socket.gethostname()}:{os.getpid()}"
    )  # e.g. a job on a Dask worker that outlived a restart
    store.claim(far.id, "another-host:1234")  # another host, heartbeat fresh
    queued = JobStore(store.url).recover(stale_after=60)
    assert [j.id for j in queued] == [gone.id]
    assert store.get(alive.id).status == JobStatus.running and store.get(far.id).status == JobStatus.running


def test_recovery_reaches_every_queued_job_oldest_first(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    n, t0 = 10_050, time.time() - 10_000
    rows = [
        dict(
            id=f"j-{i:06d}",
            kind="demo",
            target="cryptoml.testing:demo_job",
            status="queued",
            params={},
            progress=0.0,
            resumable=False,
            cancel_requested=False,
            attempt=0,
            created_at=t0 + i,
            updated_at=t0 + i,
        )
        for i in range(n)
    ]
    with Session(store.engine) as s, s.begin():
        s.execute(insert(JobRow), rows)
    ids = [j.id for j in store.recover()]
    assert len(ids) == n and ids[0] == "j-000000" and ids[-1] == f"j-{n - 1:06d}" and ids == sorted(ids)


# --- item 8: the reaper ----------------------------------------------------------------------------------------------
def test_reaper_interrupts_stale_jobs_and_resumes_resumable_ones(tmp_path):
    "While a manager runs, jobs whose worker stopped beating are interrupted; resumable ones run again."
    store = JobStore(tmp_path / "jobs.sqlite")
    m = JobManager(store, "local", stale_after=1.0, workers=1)
    m.start()
    try:
        plain = store.create("demo", "cryptoml.testing:demo_job", {"steps": 1})
        again = store.create("demo", "cryptoml.testing:demo_job", {"steps": 1, "step_s": 0.01}, resumable=True)
        for j in (plain, again):  # claimed by a worker on another host, which then dies without a word
            assert store.claim(j.id, "dead-host:42") == 1
        assert _wait(store, plain.id, ("interrupted",), timeout=30).error.startswith("interrupted: its worker")
        done = _wait(store, again.id, ("succeeded", "failed"), timeout=60)
        assert done.status == JobStatus.succeeded and done.attempt == 2, done
    finally:
        m.shutdown()


# --- item 10: only cryptoml and registered targets --------------------------------------------------------------------
def test_job_row_naming_a_foreign_target_is_refused_before_import(tmp_path, monkeypatch):
    "A row rewritten to name `os:system` or any non-cryptoml module fails without that module being imported."
    marker = tmp_path / "imported"
    (tmp_path / "evil_job_module.py").write_text(
        textwrap.dedent(f"""
        open({str(marker)!r}, "w").write("imported")
        def run(params, ctx):
            return "ran"
        """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    store = JobStore(tmp_path / "jobs.sqlite")
    for target in (
        "evil_job_module:run",
        "os:system",
        "cryptoml_x:run",
        "cryptoml.jobs:os.system",
        "cryptoml.jobs:subprocess",
    ):
        job = store.create("demo", "cryptoml.testing:demo_job")
        with Session(store.engine) as s, s.begin():  # written behind the API's back
            s.execute(update(JobRow).where(JobRow.id == job.id).values(target=target))
        assert run_job(job.id, store.url) == "failed"
        err = store.get(job.id).error
        assert err.startswith("ConfigError: job target") and ("not allowed" in err or "not a function" in err), err
    assert not marker.exists(), "the job worker imported a module a job row named"
    with pytest.raises(ValueError, match="not allowed"):
        store.create("demo", "evil_job_module:run")  # refused at submission too
    assert not marker.exists()


# --- item 15: a committed state change survives a power loss ----------------------------------------------------------
def test_job_table_syncs_fully(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
