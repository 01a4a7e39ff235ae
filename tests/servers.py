"""Real servers for tests: the app under gunicorn on a free loopback port, as in production.

    with AppServer.start({"DATABASE_URL": ..., "SECRET_KEY": ...}, log_dir, workers=2) as server:
        requests.get(server.url + "/auth/login")
        server.pids_that_served("GET", "/auth/login")

Gunicorn's access log names the worker (its pid) that served each request, so a test can show
that requests landed on several workers without the app saying anything about itself.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests
from helpers import csrf_token

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The worker's pid first: which process served the request.
ACCESS_LOG_FORMAT = '%(p)s "%(m)s %(U)s" %(s)s'  # <1234> "POST /auth/login" 429
_ACCESS_LINE = re.compile(r'^<(?P<pid>\d+)> "(?P<method>[A-Z]+) (?P<path>\S*)" (?P<status>\d{3})$')
# The developer's own settings must not leak into a server under test.
_APP_SETTING_PREFIXES = ("DATABASE_URL", "SECRET_KEY", "INSTANCE_PATH", "UPLOAD_FOLDER",
                         "BASE_URL", "MAIL_", "RATELIMIT_", "PHOTO_", "S3_", "SESSION_",
                         "REMEMBER_", "PROXY_FIX", "FLASK_", "LOG_LEVEL", "GUNICORN_CMD_ARGS",
                         "REPLY_", "RECEIVE_MAIL_", "TIMEZONE")


def free_port() -> int:
    """A loopback port nothing listens on (right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without the app's settings, then `settings`."""
    environment = {name: value for name, value in os.environ.items()
                   if not name.endswith("_RATE_LIMIT")
                   and not name.startswith(_APP_SETTING_PREFIXES)}
    environment.update({name: str(value) for name, value in settings.items()})
    return environment


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> object:
    """Poll `condition` until it returns something true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


@dataclass(frozen=True)
class AccessLine:
    pid: int
    method: str
    path: str
    status: int


@dataclass
class AppServer:
    process: subprocess.Popen[bytes]
    port: int
    log_dir: Path
    workers: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, settings: Mapping[str, str], log_dir: Path, *, workers: int = 1,
              app: str = "wsgi:app", timeout: float = 60) -> AppServer:
        """Start gunicorn with `settings` as its environment and wait until every worker
        answers; raise with the server's logs when it does not come up."""
        log_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        command = [
            sys.executable, "-m", "gunicorn", app,
            "--chdir", str(PROJECT_ROOT),
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers),
            "--access-logfile", str(log_dir / "access.log"),
            "--access-logformat", ACCESS_LOG_FORMAT,
            "--error-logfile", str(log_dir / "error.log"),
            "--graceful-timeout", "1",  # the master waits this long at every stop
            "--no-control-socket",  # one per user by default: parallel servers would share it
            "--timeout", "60",  # a loaded test machine is slow; never kill a worker mid-test
        ]
        with open(log_dir / "output.log", "wb") as output:
            process = subprocess.Popen(  # noqa: S603 (our own command line)
                command, cwd=PROJECT_ROOT, env=server_environment(settings), stdout=output,
                stderr=subprocess.STDOUT)
        server = cls(process=process, port=port, log_dir=log_dir, workers=workers)
        try:
            server.wait_until_live(timeout)
        except BaseException as error:
            logs = server.stop()
            raise RuntimeError(f"gunicorn did not come up on port {port} ({error!r}):\n"
                               f"{logs}") from error
        return server

    def __enter__(self) -> AppServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait_until_live(self, timeout: float) -> None:
        """/livez answers, from every worker (bursts of requests until each has served one)."""

        def answers() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                return requests.get(f"{self.url}/livez", timeout=10).status_code == 200
            except (requests.ConnectionError, requests.Timeout):  # still loading the app
                return False

        wait_until(answers, timeout, "the server to answer /livez")
        if self.workers == 1:
            return

        def every_worker_answered() -> bool:
            with ThreadPoolExecutor(max_workers=2 * self.workers) as pool:
                list(pool.map(lambda _: answers(), range(4 * self.workers)))
            return len(self.pids_that_served("GET", "/livez")) >= self.workers

        wait_until(every_worker_answered, timeout, f"all {self.workers} workers to answer")

    def access_log(self) -> list[AccessLine]:
        """The requests served so far (a response may reach the client just before its line
        is written: wait for the lines you expect with `wait_for_requests`)."""
        path = self.log_dir / "access.log"
        if not path.exists():
            return []
        lines = []
        for line in path.read_text().splitlines():
            match = _ACCESS_LINE.match(line)
            if match:
                lines.append(AccessLine(int(match["pid"]), match["method"], match["path"],
                                        int(match["status"])))
        return lines

    def requests_to(self, method: str, path_prefix: str) -> list[AccessLine]:
        return [line for line in self.access_log()
                if line.method == method and line.path.startswith(path_prefix)]

    def wait_for_requests(self, method: str, path_prefix: str, count: int,
                          timeout: float = 10) -> list[AccessLine]:
        """The access-log lines of `count` requests to `method path_prefix…`, once written."""
        wait_until(lambda: len(self.requests_to(method, path_prefix)) >= count, timeout,
                   f"{count} {method} {path_prefix} lines in the access log")
        return self.requests_to(method, path_prefix)

    def pids_that_served(self, method: str, path_prefix: str) -> set[int]:
        return {line.pid for line in self.requests_to(method, path_prefix)}

    def logs(self) -> str:
        return "\n".join(
            f"--- {name}\n{(self.log_dir / name).read_text(errors='replace')}"
            for name in ("output.log", "error.log")
            if (self.log_dir / name).exists())

    def stop(self) -> str:
        """Stop gunicorn (at once, or killed if it hangs) and return its logs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # quick shutdown: nothing to finish
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.logs()



class Browser:
    """A visitor: its cookies (sent to every server on 127.0.0.1, whatever the port, as behind
    one load balancer), English pages, and the CSRF token of its session."""

    HEADERS = {"Accept-Language": "en"}

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers.update(self.HEADERS)
        self.token = ""

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base_url + path

    def open(self, path: str) -> requests.Response:
        """GET a page with a form (200 expected) and keep its CSRF token."""
        response = self.session.get(self.url(path), timeout=60)
        assert response.status_code == 200, (path, response.status_code, response.text)
        self.token = csrf_token(response.text)
        return response

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.url(path), allow_redirects=False, timeout=60)

    def post(self, path: str, data: Mapping[str, str], **kwargs: object) -> requests.Response:
        return self.session.post(self.url(path), data={"csrf_token": self.token, **data},
                                 allow_redirects=False, timeout=60, **kwargs)

    def log_in(self, email: str, password: str, server_url: str | None = None) -> None:
        base = server_url or self.base_url
        self.open(f"{base}/auth/login")
        response = self.post(f"{base}/auth/login", {"email": email, "password": password})
        assert response.status_code == 302, response.text
        self.open(f"{base}/account/")  # a token of the new session

    def burst(self, posts: list[tuple[str, Mapping[str, str]]]) -> list[requests.Response]:
        """POST all at once, with this visitor's cookies; the responses, in order."""
        cookies = self.session.cookies.get_dict()

        def send(post: tuple[str, Mapping[str, str]]) -> requests.Response:
            path, data = post
            return requests.post(self.url(path), data={"csrf_token": self.token, **data},
                                 cookies=cookies, headers=self.HEADERS, allow_redirects=False,
                                 timeout=120)

        with ThreadPoolExecutor(max_workers=len(posts)) as pool:
            return list(pool.map(send, posts))

# --- this app ---------------------------------------------------------------------------------

# CI sets TEST_REDIS_URL; tests that need Redis skip without one, except in CI.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available(url: str = TEST_REDIS_URL) -> bool:
    import redis

    try:
        with redis.Redis.from_url(url, socket_connect_timeout=1) as client:
            client.ping()
    except redis.RedisError:
        return False
    return True


def forget_redis_keys(prefix: str, url: str = TEST_REDIS_URL) -> None:
    """Delete the keys a server with RATELIMIT_KEY_PREFIX=`prefix` wrote (never flush: other
    tests may be counting in the same database at this moment)."""
    import redis

    with redis.Redis.from_url(url) as client:
        for key in client.scan_iter(match=f"*{prefix}*"):
            client.delete(key)


def app_settings(app: object, instance_path: Path, **overrides: object) -> dict[str, str]:
    """Settings for a server on the database of the test's `app` (made and seeded by the test),
    with an instance folder of its own."""
    config = app.config  # type: ignore[attr-defined]
    settings: dict[str, object] = {
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": config["SECRET_KEY"],
        "INSTANCE_PATH": instance_path,
        "UPLOAD_FOLDER": config["UPLOAD_FOLDER"],
        "BASE_URL": "http://127.0.0.1",
        "PASSWORD_HASH_METHOD": config["PASSWORD_HASH_METHOD"],
        "SESSION_COOKIE_SECURE": "0",  # plain HTTP on loopback
        "LOG_LEVEL": "WARNING",
        "EMAIL_LOOKUP_FLOOR_MS": "0",
    }
    settings.update(overrides)
    return {name: str(value) for name, value in settings.items()}
