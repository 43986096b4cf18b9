#!/usr/bin/python3
"""fake_site: a scripted web site for crawler and page-fetch tests.

    /usr/bin/python3 tests/support/fake_site.py [--port 0]

Listens on 127.0.0.1 (port 0 picks a free one) and prints the port as the
first line of stdout. One thread per connection.

Feeds (their item count is set with POST /control {"items": N}, default 3,
so a feed changes between polls; item k is the same item in every version):
  /rss             RSS 2.0, ETag and Last-Modified; 304 when either matches
  /atom            Atom 1.0, ETag only
  /events.json     GitHub-style repository events, no validators
Faults:
  /slow            answers after 30 s
  /huge            a 20 MB body without Content-Length
  /malformed       XML that is not well formed
  /loop            a redirect loop (/loop -> /loop2 -> /loop)
  /429             429 with Retry-After: 3
Pages (page fetching):
  /page.html       an article page with navigation, header, footer, script
  /latin1.html     ISO-8859-1 declared in the Content-Type header
  /meta-latin1.html  ISO-8859-1 declared only in <meta charset>
  /badcharset.html  declares UTF-8, sends invalid bytes
  /image.png       Content-Type image/png
GET /stats returns {"requests": [[path, seconds since start, status], ...]}.
"""
import argparse
import hashlib
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

START = time.time()
LOCK = threading.Lock()
STATE = {"items": 3, "log": []}
LAST_MODIFIED = "Wed, 02 Oct 2024 10:00:00 GMT"


def rss(n):
    items = "".join(
        "<item><title>Story %d &amp; more</title>"
        "<link>https://news.example.org/story/%d?utm_source=feed</link>"
        "<guid isPermaLink=\"false\">story-%d</guid>"
        "<description>&lt;p&gt;Body of &lt;b&gt;story %d&lt;/b&gt;.&lt;/p&gt;</description>"
        "<pubDate>Wed, 02 Oct 2024 %02d:00:00 GMT</pubDate>"
        "<category>world</category></item>" % (k, k, k, k, k % 24)
        for k in range(1, n + 1))
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>"
            "<title>Fake news</title>%s</channel></rss>" % items).encode()


def atom(n):
    entries = "".join(
        "<entry><title>Entry %d</title><id>urn:fake:entry:%d</id>"
        "<updated>2024-10-02T%02d:00:00Z</updated>"
        "<summary type=\"html\">&lt;p&gt;Summary %d&lt;/p&gt;</summary></entry>" % (k, k, k % 24, k)
        for k in range(1, n + 1))
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Fake atom</title>"
            "<id>urn:fake</id><updated>2024-10-02T00:00:00Z</updated>%s</feed>" % entries).encode()


def events(n):
    return json.dumps([{
        "id": str(1000 + k), "type": "ReleaseEvent",
        "repo": {"name": "fakeorg/proj%d" % k}, "actor": {"login": "dev%d" % k},
        "payload": {"action": "published", "release": {"tag_name": "v1.%d" % k, "name": "v1.%d" % k}},
        "created_at": "2024-10-02T%02d:00:00Z" % (k % 24)} for k in range(1, n + 1)]).encode()


PAGE = ("<html><head><title>Fake page</title><script>var x = 'script text';</script>"
        "<style>p { color: red }</style></head><body>"
        "<header>Site header</header><nav><a href=/>Home</a> <a href=/x>Menu item</a></nav>"
        "<div class=content><h1>Big headline</h1><p>First paragraph of the article.</p>"
        "<p>Second paragraph, caf\u00e9 included.</p></div>"
        "<aside>Related links</aside><footer>Copyright footer</footer></body></html>")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def record(self, status):
        with LOCK:
            STATE["log"].append([self.path, round(time.time() - START, 3), status])

    def send(self, status, body=b"", ctype="text/plain", headers=()):
        self.record(status)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def conditional(self, body, ctype, last_modified=None):
        etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if inm == etag or (last_modified and inm is None and ims == last_modified):
            return self.send(304, headers=[("ETag", etag)])
        hdrs = [("ETag", etag)]
        if last_modified:
            hdrs.append(("Last-Modified", last_modified))
        self.send(200, body, ctype, hdrs)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        req = json.loads(self.rfile.read(n) or b"{}")
        with LOCK:
            if "items" in req:
                STATE["items"] = int(req["items"])
        self.send(200, b"{}", "application/json")

    def do_GET(self):
        with LOCK:
            n = STATE["items"]
        p = self.path
        if p == "/rss":
            # Last-Modified changes with the content, as a real server's would.
            return self.conditional(rss(n), "application/rss+xml; charset=utf-8",
                                    "Wed, 02 Oct 2024 10:%02d:00 GMT" % n)
        if p == "/atom":
            return self.conditional(atom(n), "application/atom+xml")
        if p == "/events.json":
            return self.send(200, events(n), "application/json")
        if p == "/slow":
            time.sleep(30)
            return self.send(200, rss(1), "application/rss+xml")
        if p == "/huge":
            self.record(200)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"<p>" + b"x" * 65530 + b"</p>"
            try:
                for _ in range(320):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return
        if p == "/malformed":
            return self.send(200, b"<?xml version=\"1.0\"?><rss><channel><item><title>broken</item>",
                             "application/rss+xml")
        if p in ("/loop", "/loop2"):
            return self.send(302, headers=[("Location", "/loop2" if p == "/loop" else "/loop")])
        if p == "/429":
            return self.send(429, b"slow down", headers=[("Retry-After", "3")])
        if p == "/page.html":
            return self.send(200, PAGE.encode(), "text/html; charset=utf-8")
        if p == "/latin1.html":
            return self.send(200, PAGE.encode("iso-8859-1"), "text/html; charset=ISO-8859-1")
        if p == "/meta-latin1.html":
            body = PAGE.replace("<head>", "<head><meta charset=\"iso-8859-1\">").encode("iso-8859-1")
            return self.send(200, body, "text/html")
        if p == "/badcharset.html":
            return self.send(200, b"<html><body><p>caf\xe9 \xff\xfe</p></body></html>",
                             "text/html; charset=utf-8")
        if p == "/image.png":
            return self.send(200, b"\x89PNG\r\n\x1a\n", "image/png")
        if p == "/stats":
            with LOCK:
                body = json.dumps({"requests": STATE["log"]}).encode()
            return self.send(200, body, "application/json")
        self.send(404, b"not found")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
