#!/bin/sh
# Regenerates the .log fixtures from real runs, so the parser is tested against what Python
# and gunicorn actually print rather than against our idea of it.
#
# Debian's interpreter on purpose (not whatever python3 is first on PATH): its output is what a
# Debian-based image prints, and it has no orjson installed, which the import cases rely on.
# The scratch directory is rewritten to /app so that a rerun only changes gunicorn's
# timestamps and pids, not every path.
#
# Usage: sh testdata/generate.sh   (from internal/pytrace or anywhere else)
set -eu

out=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3
gunicorn=/usr/bin/gunicorn
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# run NAME: runs NAME.py and stores stdout and stderr, interleaved as a container log would be.
run() {
	"$python" "$1.py" >"$work/$1.out" 2>&1 || true
	sed "s#$work#/app#g" "$work/$1.out" >"$out/$1.log"
}

cat >module_not_found.py <<'PY'
import orjson
PY
run module_not_found

cat >chained_during_handling.py <<'PY'
def port(cfg):
    return int(cfg["port"])


try:
    port({})
except KeyError:
    raise RuntimeError("config has no port")
PY
run chained_during_handling

cat >chained_direct_cause.py <<'PY'
def connect(url):
    host, port = url.split(":")
    return host, int(port)


def main():
    try:
        connect("db:five")
    except ValueError as e:
        raise ConnectionError("cannot parse DATABASE_URL") from e


main()
PY
run chained_direct_cause

# Python prints no "Traceback" header for a SyntaxError in the script it was asked to run:
# there is no frame yet, only the File line, the source and the caret.
cat >syntax_error.py <<'PY'
import os


def handler(request):
    return os.environ.get("PORT"


print(handler(None))
PY
run syntax_error

cat >indentation_error.py <<'PY'
def handler(request):
    port = 8080
      return port
PY
run indentation_error

# The same SyntaxError reached through an import has a header and importlib frames.
cat >broken_settings.py <<'PY'
DEBUG = True
ALLOWED_HOSTS = [*]
PY
cat >syntax_error_import.py <<'PY'
import broken_settings
PY
run syntax_error_import

cat >exception_group.py <<'PY'
def check(port):
    if port < 1024:
        raise ValueError(f"port {port} is privileged")


errors = []
for p in (80, 443):
    try:
        check(p)
    except ValueError as e:
        errors.append(e)
try:
    {}["db"]
except KeyError:
    raise ExceptionGroup("invalid config", errors)
PY
run exception_group

# A logging setup like many services': one JSON object per line, the traceback as a string
# field, and ordinary records before and after it.
cat >json_logging.py <<'PY'
import json
import logging
import sys
import traceback


class JSONFormatter(logging.Formatter):
    def format(self, record):
        doc = {"level": record.levelname.lower(), "logger": record.name, "event": record.getMessage()}
        if record.exc_info:
            doc["exception"] = traceback.format_exc()
        return json.dumps(doc)


handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(JSONFormatter())
log = logging.getLogger("worker")
log.addHandler(handler)
log.setLevel(logging.INFO)

log.info("starting")
log.info("loaded %d jobs", 3)
try:
    {"retries": 3}["timeout"]
except KeyError:
    log.exception("job failed")
log.info("shutting down")
PY
run json_logging

# A plain-text logging format where the level prefix sits on the "Traceback" line itself,
# because the traceback is the whole message.
cat >logging_prefix.py <<'PY'
import logging
import traceback

logging.basicConfig(format="%(asctime)s %(levelname)s [%(name)s] %(message)s", level=logging.INFO)
log = logging.getLogger("api")
log.info("listening on :8080")
try:
    1 / 0
except ZeroDivisionError:
    log.error("%s", traceback.format_exc().rstrip())
log.info("request handled")
PY
run logging_prefix

# gunicorn logs "Exception in worker process", the traceback, "Worker exiting", then the master
# gives up with "Reason: Worker failed to boot." and exits 3. It binds a unix socket so that a
# busy port 8000 on this machine cannot change the story.
if [ -x "$gunicorn" ]; then
	mkdir "$work/site"
	cat >"$work/site/app.py" <<'PY'
import orjson


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json")])
    return [orjson.dumps({"ok": True})]
PY
	timeout 20 "$gunicorn" --chdir "$work/site" --bind "unix:$work/gunicorn.sock" app:app \
		>/dev/null 2>"$work/gunicorn.err" || true
	sed "s#$work#/app#g" "$work/gunicorn.err" >"$out/gunicorn_worker_failed_to_boot.log"
else
	echo "generate.sh: $gunicorn missing (apt-get install -y gunicorn); gunicorn fixture left as it is" >&2
fi
