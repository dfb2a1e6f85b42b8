#!/usr/bin/env python3
"""A stand-in for bin/flotilla, for testing the chaos harness itself (not Flotilla).

`fake-flotilla.py node --config node.yaml` serves the node HTTP API from one JSON registry file that
every fake node of a run shares through a file lock, so the "cluster" is trivially linearizable; with
--unsafe-local-reads each node keeps its own registry, a broken replication the checker must catch. `cluster add-peer|remove-peer` succeed and do nothing. Used only because the harness must be
testable without the real daemon; the real runs use bin/flotilla.
"""
import fcntl, hashlib, json, os, re, sys
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

def main():
    if len(sys.argv) > 1 and sys.argv[1] == "cluster":
        print("ok")
        return 0
    cfg = open(sys.argv[sys.argv.index("--config") + 1]).read()
    node = re.search(r"^node_id: (\S+)", cfg, re.M).group(1)
    host, port = re.search(r"^api_address: (\S+)", cfg, re.M).group(1).rsplit(":", 1)
    data = re.search(r"^data_dir: (\S+)", cfg, re.M).group(1)
    os.makedirs(os.path.join(data, "raft"), exist_ok=True)
    with open(os.path.join(data, "raft", "log_inprogress_0"), "ab") as f:
        f.write(b"x" * 1024)
    shared = "--unsafe-local-reads" not in sys.argv
    registry = os.path.join(data, "..", "..", "registry.json") if shared else os.path.join(data, "registry.json")
    peers = re.findall(r"\{id: (\S+?),", cfg)

    def txn(fn):
        with open(registry + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                state = json.load(open(registry)) if os.path.exists(registry) else {"vms": {}, "index": 0}
                result, changed = fn(state)
                if changed:
                    state["index"] += 1
                    tmp = registry + ".tmp"
                    json.dump(state, open(tmp, "w"))
                    os.replace(tmp, registry)
                return result, state
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, code, body):
            b = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(b)))
            self.end_headers()
            self.wfile.write(b)

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(n) or b"{}")

        def do_GET(self):
            p = self.path.split("?")[0].strip("/").split("/")
            if p == ["health"]:
                return self.reply(200, {"status": "healthy", "node": node, "leader": peers[0]})
            if p == ["cluster"]:
                _, st = txn(lambda s: (None, False))
                d = hashlib.sha256(json.dumps(st["vms"], sort_keys=True).encode()).hexdigest()
                return self.reply(200, {"node": node, "leader": peers[0], "term": 1, "applied_index": st["index"],
                                        "digest": d, "digest_index": st["index"] if shared else 0})
            if p == ["vms"]:
                _, st = txn(lambda s: (None, False))
                return self.reply(200, [dict(v, id=k) for k, v in sorted(st["vms"].items())])
            if len(p) == 2 and p[0] == "vms":
                r, _ = txn(lambda s: (s["vms"].get(p[1]), False))
                return self.reply(200, dict(r, id=p[1])) if r else self.reply(404, {"error": "not_found", "message": "no VM"})
            self.reply(404, {"error": "not_found"})

        def do_POST(self):
            p = self.path.strip("/").split("/")
            if p == ["vms"]:
                b = self.body()
                def create(s):
                    v = s["vms"].setdefault(b["job_id"], {"desired": "RUNNING"})
                    return dict(v, id=b["job_id"]), True
                r, _ = txn(create)
                return self.reply(202, r)
            if len(p) == 3 and p[0] == "vms":
                want = {"start": "RUNNING", "stop": "STOPPED"}[p[2]]
                def change(s):
                    v = s["vms"].get(p[1])
                    if v is None:
                        return 404, False
                    if v["desired"] == want:
                        return 409, False
                    v["desired"] = want
                    return 202, True
                code, _ = txn(change)
                return self.reply(code, {"message": str(code)})
            self.reply(404, {"error": "not_found"})

        def do_DELETE(self):
            p = self.path.strip("/").split("/")
            def delete(s):
                return (202, True) if s["vms"].pop(p[1], None) is not None else (404, False)
            code, _ = txn(delete)
            self.reply(code, {"message": str(code)})

    ThreadingHTTPServer((host, int(port)), H).serve_forever()

if __name__ == "__main__":
    sys.exit(main())
