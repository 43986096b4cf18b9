#!/usr/bin/python3
"""fake_llm: a scripted OpenAI-compatible chat completions server for tests.

    /usr/bin/python3 tests/support/fake_llm.py [--port 0] [--mode MODE]

Listens on 127.0.0.1 (port 0 picks a free one) and prints the port as the
first line of stdout. HTTP/1.1 with keep-alive, one thread per connection.

POST .../chat/completions answers according to the mode, taken from the
request's X-Fake-Mode header, else the one set by POST /control
{"mode": MODE} (or --mode at start):

  ok          a valid extraction: the prompt's capitalised words as entities
  429[:N]     429 with "Retry-After: 2" for the next N requests (default 1),
              then ok
  500         always 500
  hang        never answers (the thread waits until the client goes away)
  close-idle  ok, except that a request arriving on a keep-alive connection
              idle for more than 1 s is dropped: the connection is closed
              without an answer, unread, the way a server whose idle timer
              fires just as the request arrives does. (A clean close after
              1 s would be noticed by the client's pool before reuse.)
  malformed   content that is not JSON
  schema      JSON content that violates schema/extraction.schema.json
  slow:S      ok after S seconds (a float)

POST /control {"reset": true} zeroes the counters (with or without "mode").
GET /stats returns them as JSON: requests (completions requests seen),
by_mode, status (answers by code), dropped (close-idle drops), connections
(accepted), max_in_flight (most requests being handled at once), arrivals
(seconds since reset, one per request) and mode.
"""
import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IDLE_LIMIT_S = 1.0
RETRY_AFTER_S = 2


def parse_mode(mode):
    """Returns (name, arg) or raises ValueError."""
    name, _, arg = mode.partition(":")
    if name in ("ok", "500", "hang", "close-idle", "malformed", "schema") and not arg:
        return name, None
    if name == "429":
        return name, int(arg) if arg else 1
    if name == "slow" and arg:
        return name, float(arg)
    raise ValueError("unknown mode %r" % mode)


class State:
    def __init__(self, mode):
        self.lock = threading.Lock()
        self.set_mode(mode)
        self.reset()

    def set_mode(self, mode):
        name, arg = parse_mode(mode)
        self.mode = mode
        self.left_429 = arg if name == "429" else 0

    def reset(self):
        self.t0 = time.monotonic()
        self.requests = 0
        self.by_mode = {}
        self.status = {}
        self.dropped = 0
        self.connections = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.arrivals = []

    def stats(self):
        return {
            "mode": self.mode,
            "requests": self.requests,
            "by_mode": dict(self.by_mode),
            "status": dict(self.status),
            "dropped": self.dropped,
            "connections": self.connections,
            "max_in_flight": self.max_in_flight,
            "arrivals": [round(a, 3) for a in self.arrivals],
        }


STATE = None


def extraction_for(prompt):
    """A schema-valid extraction naming the prompt's capitalised words."""
    counts = {}
    for w in re.findall(r"\b[A-Z][A-Za-z]{1,40}\b", prompt):
        if w != "Title":
            counts[w] = counts.get(w, 0) + 1
    names = sorted(counts, key=lambda w: (-counts[w], w))[:20]
    return {
        "entities": [{"name": w, "type": "other", "count": counts[w]} for w in names],
        "money": [],
        "percentages": [],
        "dates": [],
        "tags": [],
        "facts": [],
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-llm/1"

    def setup(self):
        super().setup()
        self.idle_since = None  # when this connection last finished an answer
        with STATE.lock:
            STATE.connections += 1

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        with STATE.lock:
            key = str(code)
            STATE.status[key] = STATE.status.get(key, 0) + 1

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def do_GET(self):
        if self.path == "/stats":
            with STATE.lock:
                stats = STATE.stats()
            self.reply(200, stats)
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        if self.path == "/control":
            self.control()
        elif self.path.endswith("/chat/completions"):
            self.completions()
        else:
            self.read_body()
            self.reply(404, {"error": "not found"})

    def control(self):
        try:
            req = json.loads(self.read_body() or b"{}")
            with STATE.lock:
                if "mode" in req:
                    STATE.set_mode(req["mode"])
                if req.get("reset"):
                    STATE.reset()
                mode = STATE.mode
        except (ValueError, TypeError) as e:
            self.reply(400, {"error": str(e)})
            return
        self.reply(200, {"ok": True, "mode": mode})

    def completions(self):
        now = time.monotonic()
        with STATE.lock:
            mode = self.headers.get("X-Fake-Mode") or STATE.mode
            STATE.requests += 1
            STATE.by_mode[mode] = STATE.by_mode.get(mode, 0) + 1
            STATE.arrivals.append(now - STATE.t0)
            STATE.in_flight += 1
            STATE.max_in_flight = max(STATE.max_in_flight, STATE.in_flight)
        try:
            self.answer(mode, now)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up on this request
        finally:
            with STATE.lock:
                STATE.in_flight -= 1
            self.idle_since = time.monotonic()

    def answer(self, mode, now):
        try:
            name, arg = parse_mode(mode)
        except ValueError as e:
            self.read_body()
            self.reply(400, {"error": str(e)})
            return
        if name == "close-idle" and self.idle_since is not None and now - self.idle_since > IDLE_LIMIT_S:
            with STATE.lock:
                STATE.dropped += 1
            self.close_connection = True  # the body is left unread: the close resets
            return
        raw = self.read_body()
        if name == "429":
            with STATE.lock:
                limited = STATE.left_429 > 0
                if limited:
                    STATE.left_429 -= 1
            if limited:
                self.reply(429, {"error": {"message": "rate limited"}},
                           [("Retry-After", str(RETRY_AFTER_S))])
                return
        elif name == "500":
            self.reply(500, {"error": {"message": "internal error"}})
            return
        elif name == "hang":
            # Returns only when the client closes the connection.
            while self.connection.recv(4096):
                pass
            self.close_connection = True
            return
        elif name == "slow":
            time.sleep(arg)

        try:
            req = json.loads(raw)
            prompt = req["messages"][-1]["content"]
            model = req.get("model", "fake")
        except (ValueError, KeyError, IndexError, TypeError):
            self.reply(400, {"error": {"message": "bad request body"}})
            return
        if name == "malformed":
            content = "Sure! Here are the entities: Acme, Bob"
        elif name == "schema":
            content = json.dumps({"entities": [{"name": "Acme", "type": "martian"}],
                                  "money": [], "percentages": [], "dates": [],
                                  "tags": ["Not A Slug"], "facts": []})
        else:
            content = json.dumps(extraction_for(prompt))
        self.reply(200, {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(content) // 4},
        })


def main():
    global STATE
    ap = argparse.ArgumentParser(description="scripted fake LLM server")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--mode", default="ok")
    args = ap.parse_args()
    try:
        STATE = State(args.mode)
    except ValueError as e:
        ap.error(str(e))
    # The default listen backlog (5) would hold a batch's further
    # connections for a SYN retransmission (1 s).
    ThreadingHTTPServer.request_queue_size = 64
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
