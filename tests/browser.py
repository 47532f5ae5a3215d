"""A small headless-Chromium driver for the browser tests: the DevTools protocol over a websocket (websocket-client).

`chromium()` finds the browser, or installs Debian's `chromium` package with apt-get when it is missing and this
process may (root, apt-get present); `Browser` starts it headless and opens pages; `Page.open` loads a page and
`Page.check` reports what a reader would notice: console errors, uncaught exceptions, resources that failed to load,
images that did not render, links to files that do not exist, and a page wider than the window.
"""

import base64, json, os, shutil, subprocess, tempfile, time, urllib.request
from pathlib import Path
from urllib.parse import unquote, urlparse

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
LAPTOP = (1366, 900)  # a common laptop viewport (CSS pixels)
LOCAL = ("127.0.0.1", "localhost", "::1")


def _find() -> str | None:
    "The Chromium binary on this machine, if any (Debian's wrapper script execs /usr/lib/chromium/chromium)."
    if Path("/usr/lib/chromium/chromium").is_file():
        return "/usr/lib/chromium/chromium"
    return next((p for n in NAMES if (p := shutil.which(n))), None)


def chromium(install: bool = True) -> tuple[str | None, str]:
    "(path of Chromium, '') or (None, why it is missing and cannot be installed); installs it with apt-get if it can."
    if exe := _find():
        return exe, ""
    if not install:
        return None, "Chromium is not installed"
    if not shutil.which("apt-get"):
        return None, "Chromium is not installed and there is no apt-get to install it"
    if os.geteuid() != 0:
        return None, "Chromium is not installed and installing it needs root (apt-get install -y chromium)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = lambda *a: subprocess.run(["apt-get", *a], env=env, capture_output=True, text=True, timeout=1200)
    r = apt("install", "-y", "chromium")
    if r.returncode != 0:  # stale package lists: refresh them and try once more
        apt("update")
        r = apt("install", "-y", "chromium")
    out = (r.stdout + r.stderr)[-600:]
    return (_find(), "") if _find() else (None, f"apt-get install -y chromium failed: {out}")


class Page:
    "One browser tab driven over the DevTools protocol."

    def __init__(self, ws_url: str, size: tuple[int, int] = LAPTOP):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.n, self.events = 0, []
        for m in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.call(m)
        w, h = size
        self.call("Emulation.setDeviceMetricsOverride", width=w, height=h, deviceScaleFactor=1, mobile=False)

    def call(self, method: str, **params):
        "Send a command and return its result (events that arrive meanwhile are kept)."
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.n:
                if "error" in msg:
                    raise RuntimeError(f"{method} failed: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def _wait(self, event: str, timeout: float = 60):
        "Wait for an event (kept in `events`)."
        end = time.time() + timeout
        while not any(e.get("method") == event for e in self.events):
            if time.time() > end:
                raise TimeoutError(f"no {event} within {timeout}s")
            self.events.append(json.loads(self.ws.recv()))

    def evaluate(self, expression: str, await_promise: bool = False):
        "The value of a JavaScript expression in the page."
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=await_promise)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression[:60]!r} raised: {r['exceptionDetails'].get('text')}")
        return r["result"].get("value")

    def open(self, url: str, settle_ms: int = 300):
        "Load `url` and wait for its load event (and `settle_ms` more for late errors and image decoding)."
        self.events = []
        self.call("Page.navigate", url=url)
        self._wait("Page.loadEventFired")
        self.evaluate(f"new Promise(r => setTimeout(r, {settle_ms}))", await_promise=True)
        return self

    def problems(self, external: bool = False) -> list[str]:
        """Console errors, uncaught exceptions and failed loads since the page was opened (`external`: only the failed
        loads from other hosts, which the other problems leave out: offline, they fail whatever the page does)."""
        out, ext = [], []
        for e in self.events:
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append(f"exception: {d.get('exception', {}).get('description') or d.get('text')}")
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.error: " + " ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
            elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
                url = p["entry"].get("url", "")
                remote = urlparse(url).scheme in ("http", "https") and urlparse(url).hostname not in LOCAL
                (ext if remote and p["entry"]["source"] == "network" else out).append(
                    f"{p['entry']['source']}: {p['entry']['text']} {url}".strip()
                )
        return ext if external else out

    def check(self) -> dict:
        "What a reader would notice: problems, images that did not render, dead file links, horizontal overflow."
        info = self.evaluate(
            """(() => ({
              title: document.title,
              images: [...document.images].map(i => ({src: i.currentSrc.slice(0, 60), w: i.naturalWidth,
                                                      h: i.naturalHeight, done: i.complete})),
              links: [...document.querySelectorAll('a[href]')].map(a => a.href),
              ids: [...document.querySelectorAll('[id]')].map(e => e.id),
              page: location.href,
              scrollWidth: document.documentElement.scrollWidth,
              width: document.documentElement.clientWidth,
            }))()"""
        )
        dead = []
        for href in info["links"]:
            u = urlparse(href)
            if u.scheme != "file":
                continue
            if not Path(unquote(u.path)).exists():
                dead.append(href)
            elif u.fragment and href.split("#")[0] == info["page"].split("#")[0]:
                if not {u.fragment, unquote(u.fragment)} & set(info["ids"]):  # browsers try the id as is, then decoded
                    dead.append(href)
        broken = [i for i in info["images"] if not (i["done"] and i["w"] > 0 and i["h"] > 0)]
        external = self.problems(external=True)
        return {**info, "problems": self.problems(), "external": external, "dead_links": dead, "broken_images": broken}

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        "Save a PNG of the viewport (or of the whole page)."
        r = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=full_page)
        path.write_bytes(base64.b64decode(r["data"]))
        return path

    def close(self):
        self.ws.close()


class Browser:
    "Headless Chromium with the DevTools protocol on a free local port."

    def __init__(self, exe: str):
        self.profile = Path(tempfile.mkdtemp(prefix="cryptoml-chromium-"))
        args = [exe, "--headless=new", "--disable-gpu", "--no-first-run", "--no-default-browser-check"]
        args += ["--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={self.profile}"]
        args += ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium refuses to run as root with its sandbox
        self.log = open(self.profile / "chromium.log", "w")
        self.proc = subprocess.Popen([*args, "about:blank"], stdout=self.log, stderr=self.log)
        port_file, end = self.profile / "DevToolsActivePort", time.time() + 60
        while not (port_file.is_file() and len(port_file.read_text().split()) >= 2):
            if self.proc.poll() is not None or time.time() > end:
                self.close()
                raise RuntimeError(f"Chromium did not start: {(self.profile / 'chromium.log').read_text()[-1000:]}")
            time.sleep(0.1)
        self.port = int(port_file.read_text().split()[0])

    def page(self, size: tuple[int, int] = LAPTOP) -> Page:
        "A new tab."
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT")
        with urllib.request.urlopen(req, timeout=30) as r:
            return Page(json.loads(r.read())["webSocketDebuggerUrl"], size)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
