"""Sample Python service for the kubectl-pyroll sandbox.

A small Flask app served by gunicorn, instrumented with prometheus_client the way
most Python services are: http_requests_total{method,status},
http_request_duration_seconds and the default python_info. It generates its own
traffic so every revision has an error rate and a latency to show.

Behaviour comes from the environment (the pod's container env, passed on by the
sandbox's pod runner):
  PYROLL_ERROR_RATE    fraction of requests answered 500, 0..1 (default 0)
  PYROLL_LATENCY_MS    time spent per request in milliseconds (default 20)
  PYROLL_TRAFFIC_RPS   self-generated requests per second (default 5; 0 = none)
  PYROLL_SELF_URL      where this instance listens, for the traffic loop
  PYROLL_IMPORT        extra modules the build imports at start, comma-separated: one the
                       image lacks (orjson is not in Debian's python3) fails the worker at
                       import, and gunicorn exits with "Worker failed to boot", as a release
                       whose lock file lost a dependency does
  BUILD_GIT_SHA, BUILD_LOCK_HASH, BUILD_PIPELINE_RUN, BUILD_VERSION  -> /buildinfo
"""

import json
import logging
import os
import platform
import threading
import time
import urllib.error
import urllib.request

for _module in os.environ.get("PYROLL_IMPORT", "").split(","):
    if _module.strip():
        __import__(_module.strip())

from flask import Flask, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest


def _env_float(name, default):
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return float(default)


ERROR_RATE = min(max(_env_float("PYROLL_ERROR_RATE", 0), 0.0), 1.0)
LATENCY_SECONDS = max(_env_float("PYROLL_LATENCY_MS", 20), 0.0) / 1000.0
TRAFFIC_RPS = max(_env_float("PYROLL_TRAFFIC_RPS", 5), 0.0)
SELF_URL = os.environ.get("PYROLL_SELF_URL", "").rstrip("/")

REQUESTS = Counter("http_requests", "HTTP requests served.", ["method", "status"])
DURATION = Histogram(
    "http_request_duration_seconds",
    "HTTP request duration in seconds.",
    ["method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

app = Flask(__name__)


class ErrorSpacer:
    """Spreads failures evenly (every 1/rate-th request) instead of at random, so a
    revision configured for 5% errors shows 5% over any window, not 5% +- noise."""

    def __init__(self, rate):
        self._rate = rate
        self._debt = 0.0
        self._lock = threading.Lock()

    def should_fail(self):
        with self._lock:
            self._debt += self._rate
            if self._debt >= 1.0 - 1e-9:
                self._debt -= 1.0
                return True
            return False


_errors = ErrorSpacer(ERROR_RATE)


@app.route("/api/work")
def work():
    start = time.perf_counter()
    if LATENCY_SECONDS:
        time.sleep(LATENCY_SECONDS)
    status = 500 if _errors.should_fail() else 200
    body = {"ok": status == 200}
    DURATION.labels(request.method).observe(time.perf_counter() - start)
    REQUESTS.labels(request.method, str(status)).inc()
    return Response(json.dumps(body), status=status, mimetype="application/json")


@app.route("/metrics")
def metrics():
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


@app.route("/health/ready")
@app.route("/health/live")
def health():
    return {"status": "ok"}


@app.route("/buildinfo")
def buildinfo():
    return {
        "git_sha": os.environ.get("BUILD_GIT_SHA", ""),
        "lock_hash": os.environ.get("BUILD_LOCK_HASH", ""),
        "pipeline_run": os.environ.get("BUILD_PIPELINE_RUN", ""),
        "version": os.environ.get("BUILD_VERSION", ""),
        "python_version": platform.python_version(),
    }


def _traffic_loop():
    interval = 1.0 / TRAFFIC_RPS
    url = SELF_URL + "/api/work"
    next_at = time.monotonic()
    while True:
        next_at += interval
        try:
            urllib.request.urlopen(url, timeout=5).read()
        except urllib.error.HTTPError:
            pass  # the 500s are the point
        except OSError:
            time.sleep(0.5)  # not listening yet
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_at = time.monotonic()


if TRAFFIC_RPS > 0 and SELF_URL:
    threading.Thread(target=_traffic_loop, name="traffic", daemon=True).start()

# gunicorn's own logger, so the line lands in the container log with gunicorn's.
logging.getLogger("gunicorn.error").info(
    "sample service %s (git %s) ready: error rate %g, latency %g ms, self traffic %g rps",
    os.environ.get("BUILD_VERSION", "dev"),
    os.environ.get("BUILD_GIT_SHA", "")[:12] or "unknown",
    ERROR_RATE,
    LATENCY_SECONDS * 1000,
    TRAFFIC_RPS,
)
