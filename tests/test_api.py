"""The ml-v2 HTTP API from outside: schemathesis fuzzing, keys, body limits, a real uvicorn server on loopback,
a server killed with SIGKILL mid-job, cancellation, and an optimization job on a Dask cluster."""

import concurrent.futures as cf, json, os, signal, socket, subprocess, sys, time
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from fastapi.testclient import TestClient

from cryptoml.api import API_PREFIX, ApiSettings, create_app
from cryptoml.data import synthetic_ohlcv
from cryptoml.jobs import JobManager, JobStore, JobRow

KEY = "test-key-" + "x" * 24
ROOT = Path(__file__).resolve().parents[1]
FINAL = ("succeeded", "failed", "cancelled", "interrupted")


def _candles(n=400, seed=3):
    df = synthetic_ohlcv(n, seed=seed).reset_index()
    df["timestamp"] = df["timestamp"].map(lambda t: t.isoformat())
    return df.to_dict("records")


class NullExecutor:
    "An executor that accepts tasks and runs none (the fuzzer exercises request handling, not the work)."

    def submit(self, fn, *args):
        return cf.Future()  # never runs: the job stays queued

    def map(self, fn, items):
        return [fn(x) for x in items]

    def shutdown(self, wait=True):
        pass


def _tiny_transformer(tmp: Path) -> str:
    "A tiny local DistilBERT for source 'transformer' (nothing is downloaded)."
    from cryptoml.sentiment import tiny_transformer

    p = tmp / "tiny-transformer"
    if not (p / "config.json").exists():
        tiny_transformer(p)
    return str(p)


def _null_app(tmp: Path, key=KEY):
    store = JobStore(tmp / f"fuzz-jobs-{'key' if key else 'nokey'}.sqlite")  # one job manager per job table
    return create_app(
        ApiSettings(api_key=key, jobs_url=store.url, rate_limit=0, sentiment_transformer=_tiny_transformer(tmp)),
        manager=JobManager(store, NullExecutor()),
    )


# --- schemathesis: no server errors on any route, with and without a key ---------------------------------------------
_FUZZ_DIR = Path(os.environ.get("CRYPTOML_MODELS_DIR", "/tmp")) / "api-fuzz"
_FUZZ_DIR.mkdir(parents=True, exist_ok=True)
schema_keyed = schemathesis.openapi.from_asgi("/openapi.json", _null_app(_FUZZ_DIR))
schema_nokey = schemathesis.openapi.from_asgi("/openapi.json", _null_app(_FUZZ_DIR, key=None))
_FUZZ = settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@schema_keyed.parametrize()
@_FUZZ
def test_fuzz_with_key(case):
    "Generated requests (with the key) never get a 5xx, and every response matches the documented schema."
    resp = case.call(headers={"X-API-Key": KEY})
    assert resp.status_code < 500, (resp.status_code, resp.text[:500])
    # schemathesis' default checks (server errors, documented statuses, content types, response schemas), except
    # "schema-valid data is accepted" (equal list lengths, consistent candles and enough history are rules a JSON schema
    # cannot state) and "schema-violating data is rejected" (pydantic's lax mode coerces e.g. `false` to 0.0, as FastAPI does)
    case.validate_response(resp, excluded_checks=[positive_data_acceptance, negative_data_rejection])
    json.loads(resp.text)  # every answer, errors included, is valid JSON


@schema_nokey.parametrize()
@_FUZZ
def test_fuzz_without_key(case):
    "Generated requests against a server without a key never get a 5xx; routes that start work say 401."
    resp = case.call()
    assert resp.status_code < 500, (resp.status_code, resp.text[:500])
    json.loads(resp.text)
    if (case.method, case.path) in {
        ("POST", f"{API_PREFIX}/optimize"),
        ("POST", f"{API_PREFIX}/rl/train"),
        ("DELETE", f"{API_PREFIX}/jobs/{{job_id}}"),
    }:
        assert resp.status_code == 401, resp.status_code  # checked before the body, whatever the body is


# --- keys, body size, NaN, rate limit ----------------------------------------------------------------------------------
MUTATING = [("post", "/optimize"), ("post", "/rl/train"), ("delete", "/jobs/j-20260101T000000-abcdef12")]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with TestClient(_null_app(tmp_path_factory.mktemp("api"))) as c:
        yield c


@pytest.mark.parametrize("method,path", MUTATING)
@pytest.mark.parametrize(
    "headers", [{}, {"X-API-Key": "wrong-" + "y" * 30}, {"Authorization": "Bearer nope"}, {"X-API-Key": ""}]
)
def test_mutating_routes_need_key(client, method, path, headers):
    kw = {"json": {}} if method == "post" else {}
    r = getattr(client, method)(API_PREFIX + path, headers=headers, **kw)
    assert r.status_code == 401, r.text
    assert "detail" in r.json() and "Traceback" not in r.text


def test_mutating_routes_accept_key(client):
    r = client.post(
        f"{API_PREFIX}/rl/train",
        headers={"Authorization": f"Bearer {KEY}"},
        json={"agent_type": "qlearning", "market_data": _candles(120), "total_timesteps": 100},
    )
    assert r.status_code == 202 and r.json()["status"] == "queued"
    r2 = client.delete(f"{API_PREFIX}/jobs/{r.json()['id']}", headers={"X-API-Key": KEY})
    assert r2.status_code == 200 and r2.json()["status"] == "cancelled"


@pytest.mark.parametrize("body", [b"\x80", b"{not json", b'{"agent_type": "nope"}'])
def test_key_checked_before_body(client, body):
    for method, path in MUTATING:
        r = client.request(
            method.upper(), API_PREFIX + path, content=body, headers={"content-type": "application/json"}
        )
        assert r.status_code == 401, (path, r.status_code)


def test_no_key_configured_refuses_work(tmp_path):
    with TestClient(_null_app(tmp_path, key=None)) as c:
        r = c.post(f"{API_PREFIX}/rl/train", headers={"X-API-Key": KEY}, json={})
        assert r.status_code == 401 and "no API key configured" in r.json()["detail"]


def test_oversize_body_413(client):
    big = {"text": "a" * 2_100_000}
    r = client.post(f"{API_PREFIX}/sentiment/analyze", json=big)
    assert r.status_code == 413 and "larger than" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit counts streamed bytes
        for _ in range(300):
            yield b"x" * 10_000

    r = client.post(f"{API_PREFIX}/sentiment/analyze", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_nan_and_infinity_are_422_with_json_body(client):
    for bad in (
        '{"prices": [NaN, 1.0]}',
        '{"prices": [Infinity, 1.0]}',
        '{"text": "hi", "sources": ["vader"], "x": NaN}',
    ):
        path = "/regime/detect" if "prices" in bad else "/sentiment/analyze"
        r = client.post(API_PREFIX + path, content=bad, headers={"content-type": "application/json"})
        assert r.status_code == 422, r.text
        json.loads(r.text)  # valid JSON (no bare NaN)
    body = {
        "model_type": "ridge",
        "n_trials": 2,
        "hyperparameter_ranges": [{"name": "alpha", "param_type": "float", "min": 0.1, "max": 1.0}],
    }
    raw = json.dumps(body).replace("1.0", "NaN")
    r = client.post(
        f"{API_PREFIX}/optimize", content=raw, headers={"content-type": "application/json", "X-API-Key": KEY}
    )
    assert r.status_code == 422 and "Traceback" not in r.text


def test_bounds_and_traversal(client):
    r = client.post(
        f"{API_PREFIX}/optimize",
        headers={"X-API-Key": KEY},
        json={
            "model_type": "ridge",
            "n_trials": 10**6,
            "hyperparameter_ranges": [{"name": "alpha", "param_type": "float", "min": 0.1, "max": 1.0}],
        },
    )
    assert r.status_code == 422
    r = client.post(
        f"{API_PREFIX}/rl/train",
        headers={"X-API-Key": KEY},
        json={"agent_type": "ppo", "market_data": _candles(60), "total_timesteps": 10**9},
    )
    assert r.status_code == 422
    for mid in ("../../etc/passwd", "..", ".hidden", "a/b", "%2e%2e"):
        r = client.post(f"{API_PREFIX}/predict", json={"model_id": mid, "candles": _candles(5)})
        assert r.status_code in (404, 422), (mid, r.status_code)
    r = client.post(
        f"{API_PREFIX}/optimize",
        headers={"X-API-Key": KEY},
        json={
            "model_type": "ridge",
            "n_trials": 2,
            "hyperparameter_ranges": [{"name": "alpha", "param_type": "float", "min": 0.1, "max": 1.0}],
            "objective_options": {"source": "/etc"},
        },
    )
    assert r.status_code == 422 and "source" in r.text


def test_rate_limit_429(tmp_path):
    store = JobStore(tmp_path / "j.sqlite")
    app = create_app(
        ApiSettings(api_key=KEY, jobs_url=store.url, rate_limit=1, rate_burst=3),
        manager=JobManager(store, NullExecutor()),
    )
    with TestClient(app) as c:
        codes = [c.get(f"{API_PREFIX}/jobs").status_code for _ in range(6)]
        assert codes[:3] == [200] * 3 and 429 in codes[3:], codes
        r = c.post(f"{API_PREFIX}/sentiment/analyze", json={"text": "ok"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert c.get(f"{API_PREFIX}/health").status_code == 200  # health is exempt


def test_health_reports_the_job_monitor(tmp_path):
    "/health shows the job monitor and the lease; a stopped monitor makes the server 'degraded'."
    app = create_app(ApiSettings(api_key=KEY, jobs_url=str(tmp_path / "jobs.sqlite"), rate_limit=0))
    with TestClient(app) as c:
        h = c.get(f"{API_PREFIX}/health").json()
        assert h["status"] == "ok" and h["jobs"]["monitor_alive"] and h["jobs"]["lease"] == "held", h
        m = app.state.manager
        m._stop.set()  # the monitor thread ends
        m._thread.join(5)
        h = c.get(f"{API_PREFIX}/health").json()
        assert h["status"] == "degraded" and not h["jobs"]["monitor_alive"], h


def test_second_server_on_one_job_table_is_refused(tmp_path):
    "A second `cryptoml serve` on the same job table exits with a clear error instead of taking the first one's jobs."
    srv = Server(tmp_path).start()
    try:
        env = {**srv.env, "CRYPTOML_API_RATE": "0"}
        code = f"import sys; from cryptoml.api import serve_main; sys.exit(serve_main(['--port', '{_free_port()}']))"
        res = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
        )
        assert res.returncode == 2 and "already served by another job executor" in res.stderr, res.stderr[-2000:]
        assert httpx.get(srv.url + f"{API_PREFIX}/health", timeout=5).json()["jobs"]["lease"] == "held"
    finally:
        srv.stop()


# --- a real server on loopback -------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    "`cryptoml serve` (serve_main) in a subprocess on 127.0.0.1."

    def __init__(self, tmp: Path, grace: float = 10.0):
        self.port, self.tmp = _free_port(), tmp
        self.env = {
            **os.environ,
            "CRYPTOML_API_KEY": KEY,
            "CRYPTOML_JOBS_URL": str(tmp / "jobs.sqlite"),
            "CRYPTOML_MODELS_DIR": str(tmp / "models"),
            "CRYPTOML_API_RATE": "0",
            "CRYPTOML_CANCEL_GRACE": str(grace),
            "PYTHONUNBUFFERED": "1",
        }
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self, timeout: float = 60):
        self.log = open(self.tmp / f"server-{time.time_ns()}.log", "w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import sys; from cryptoml.api import serve_main; sys.exit(serve_main(['--port', '{self.port}', '--log-level', 'warning']))",
            ],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(self.tmp / self.log.name).read_text()[-2000:]}")
            try:
                if httpx.get(self.url + f"{API_PREFIX}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError("server did not start")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


def _wait(c: httpx.Client, job_id: str, states=FINAL, timeout=90, pred=None):
    t0, j = time.time(), None
    while time.time() - t0 < timeout:
        j = c.get(f"{API_PREFIX}/jobs/{job_id}").json()
        if j["status"] in states and (pred is None or pred(j)):
            return j
        time.sleep(0.1)
    raise TimeoutError(f"job {job_id}: {j}")


def test_end_to_end_uvicorn(tmp_path):
    "A real server over HTTP: docs, analysis routes, a job to completion, and a cancel within the grace period."
    srv = Server(tmp_path, grace=10).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            assert c.get("/openapi.json").json()["info"]["title"].startswith("cryptoml")
            assert c.get("/docs").status_code == 200
            r = c.post(
                f"{API_PREFIX}/sentiment/analyze", json={"text": "ETH dumps, traders rekt", "sources": ["vader"]}
            )
            assert r.status_code == 200 and r.json()["label"] == "negative"
            candles = _candles(400)
            r = c.post(
                f"{API_PREFIX}/regime/detect",
                json={"prices": [x["close"] for x in candles], "volumes": [x["volume"] for x in candles]},
            )
            assert r.status_code == 200 and r.json()["regime"] in (
                "bullish",
                "bearish",
                "ranging",
                "volatile",
                "trending",
            )
            assert c.post(f"{API_PREFIX}/rl/train", json={}).status_code == 401
            H = {"X-API-Key": KEY}
            r = c.post(
                f"{API_PREFIX}/rl/train",
                headers=H,
                json={"agent_type": "qlearning", "market_data": candles, "total_timesteps": 2000},
            )
            assert r.status_code == 202
            j = _wait(c, r.json()["id"])
            assert j["status"] == "succeeded" and j["result"]["timesteps"] == 2000, j
            r = c.post(
                f"{API_PREFIX}/rl/train",
                headers=H,
                json={"agent_type": "qlearning", "market_data": candles, "total_timesteps": 2_000_000},
            )
            jid = r.json()["id"]
            _wait(c, jid, states=("running",), pred=lambda j: j["progress"] > 0, timeout=60)
            t0 = time.time()
            assert c.delete(f"{API_PREFIX}/jobs/{jid}", headers=H).json()["cancel_requested"]
            j = _wait(c, jid, timeout=30)
            assert j["status"] == "cancelled" and time.time() - t0 < 10, (
                j,
                time.time() - t0,
            )  # cooperative: before the grace period
            assert [x["id"] for x in c.get(f"{API_PREFIX}/jobs", params={"kind": "rl_train"}).json()][:1] == [jid]
    finally:
        srv.stop()


@pytest.mark.slow
def test_ppo_cancel_within_grace(tmp_path):
    "PPO stops through its SB3 callback (returns False) well within the grace period; a stubborn job is killed after it."
    app = create_app(ApiSettings(api_key=KEY, jobs_url=str(tmp_path / "jobs.sqlite"), rate_limit=0, cancel_grace=10))
    H = {"X-API-Key": KEY}
    with TestClient(app) as c:
        r = c.post(
            f"{API_PREFIX}/rl/train",
            headers=H,
            json={"agent_type": "ppo", "market_data": _candles(400), "total_timesteps": 2_000_000},
        )
        jid = r.json()["id"]
        _wait(c, jid, states=("running",), pred=lambda j: j["progress"] > 0, timeout=90)
        t0 = time.time()
        c.delete(f"{API_PREFIX}/jobs/{jid}", headers=H)
        j = _wait(c, jid, timeout=30)
        assert j["status"] == "cancelled" and j["error"] == "cancelled" and time.time() - t0 < 10, (j, time.time() - t0)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def test_job_survives_sigkill_and_resumes(tmp_path):
    "kill -9 of the server mid-job: the record is intact; at restart the job is interrupted, re-queued and resumes."
    srv = Server(tmp_path).start()
    candles = _candles(400)
    body = {"agent_type": "qlearning", "market_data": candles, "total_timesteps": 60_000, "seed": 1}
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as c:
            jid = c.post(f"{API_PREFIX}/rl/train", headers={"X-API-Key": KEY}, json=body).json()["id"]
            before = _wait(c, jid, states=("running",), pred=lambda j: j["progress"] >= 0.2, timeout=60)
        store = JobStore(tmp_path / "jobs.sqlite")
        from sqlalchemy.orm import Session

        with Session(store.engine) as s:
            worker = s.get(JobRow, jid).worker
        worker_pid = int(worker.split(":")[1])
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(10)
        t0 = time.time()
        while _pid_alive(worker_pid) and time.time() - t0 < 10:
            time.sleep(0.1)
        assert not _pid_alive(worker_pid), "the job process outlived the server"
        rec = store.get(jid)
        assert rec.status.value == "running" and rec.params["total_timesteps"] == 60_000
        assert rec.params["market_data"][0]["close"] == candles[0]["close"] and rec.progress >= before["progress"]
        srv.stop()
        srv2 = Server(tmp_path).start()
        try:
            with httpx.Client(base_url=srv2.url, timeout=30) as c:
                j = _wait(c, jid, timeout=90)
                assert j["status"] == "succeeded", (j["error"], j)
                assert j["attempt"] == 2 and j["result"]["resumed_from"] > 0 and j["result"]["timesteps"] == 60_000, j
        finally:
            srv2.stop()
    finally:
        srv.stop(signal.SIGKILL)


# --- an optimization on the Dask backend -----------------------------------------------------------------------------------
def test_optimize_on_dask_runs_exactly_n_trials(tmp_path, monkeypatch):
    pytest.importorskip("cryptoml.automl")
    from distributed import LocalCluster

    monkeypatch.setenv("CRYPTOML_MODELS_DIR", str(tmp_path / "models"))
    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, protocol="tcp://", host="127.0.0.1", dashboard_address=None
    ) as cluster:
        app = create_app(
            ApiSettings(
                api_key=KEY,
                jobs_url=str(tmp_path / "jobs.sqlite"),
                rate_limit=0,
                executor="dask",
                dask_address=cluster.scheduler_address,
            )
        )
        with TestClient(app) as c:
            req = {
                "model_type": "ridge",
                "search_strategy": "random",
                "n_trials": 4,
                "seed": 0,
                "hyperparameter_ranges": [
                    {"name": "alpha", "param_type": "float", "min": 0.01, "max": 100, "log": True}
                ],
                "objective_options": {"source": "synthetic", "limit": 400, "n_splits": 2},
            }
            r = c.post(f"{API_PREFIX}/optimize", headers={"X-API-Key": KEY}, json=req)
            assert r.status_code == 202
            t0, j = time.time(), None
            while time.time() - t0 < 90:
                j = c.get(f"{API_PREFIX}/jobs/{r.json()['id']}").json()
                if j["status"] in FINAL:
                    break
                time.sleep(0.2)
            assert j["status"] == "succeeded", (j["error"], j)
            res = j["result"]
            assert len(res["trials"]) == 4 and res["n_complete"] + res["n_failed"] + res["n_pruned"] == 4, res
            assert res["n_complete"] == 4 and res["best_params"]
