#!/usr/bin/env python3
"""Load client and checker for bench/crash-safety (Python 3 standard library only).

Subcommands (the state of one database's run is kept in one JSON file, handed
from round to round, because the client process ends at every kill):

  load   run profile writers and sign-in workers against a running server until
         SIGTERM (sent by bench/crash-safety just after it kill -9s the server)
         or --max-seconds; then save the state and exit.
  check  compare the values stored in the database (a TSV "username<TAB>given_name"
         read from a copy of the crashed database) with what the server acknowledged.
  report print the figures of the run.

Every request goes to 127.0.0.1 and is bounded by a timeout; every loop is
bounded by time and by count.
"""
import argparse
import http.client
import json
import os
import random
import re
import signal
import sys
import threading
import time
import urllib.parse

PASSWORD = "crash safety password"
REQUEST_TIMEOUT = 60  # seconds; an answer slower than this counts as a failure
MAX_REQUESTS_PER_WORKER = 100_000  # per round, a bound that is never expected to bite


def load_state(path, accounts):
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {
        "accounts": accounts,
        "next_ip": random.randrange(1 << 20),
        "writers": {
            str(i): {"user": f"crash{i}", "email": f"crash{i}@example.com", "cookie": None,
                     "next": 1, "last_acked": 0, "floor": 0, "maybe": []}
            for i in range(accounts)
        },
        "totals": {k: 0 for k in (
            "writes_acked", "writes_failed", "writes_unacked", "signins_ok", "signins_failed",
            "signins_unacked", "sessions_lost", "checked", "found_exact", "found_later", "lost")},
        "rounds": [],
    }


def save_state(path, state):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, path)


class Client:
    def __init__(self, port, origin, state):
        self.port, self.origin = port, origin
        self.lock = threading.Lock()
        self.state = state

    def fake_ip(self):
        with self.lock:
            n = self.state["next_ip"]
            self.state["next_ip"] = n + 1
        n %= 1 << 24
        return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"

    def post(self, path, fields, cookie=None):
        """Returns (kind, status, headers, body); kind is "answer", "refused"
        (nothing was sent: the server is down), "lost" (the connection broke
        before an answer: the request may or may not have been applied) or
        "timeout"."""
        headers = {
            "Origin": self.origin,
            "X-Forwarded-For": self.fake_ip(),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        if cookie:
            headers["Cookie"] = f"latchkey_session={cookie}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            try:
                conn.connect()
            except ConnectionRefusedError:
                return ("refused", None, None, None)
            conn.request("POST", path, body=urllib.parse.urlencode(fields), headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            return ("answer", resp.status, resp.getheaders(), body)
        except TimeoutError:
            return ("timeout", None, None, None)
        except (OSError, http.client.HTTPException):
            return ("lost", None, None, None)
        finally:
            conn.close()

    def sign_in(self, user):
        """Returns (kind, session cookie or None)."""
        kind, status, headers, _ = self.post("/api/auth/login", {"identifier": user, "password": PASSWORD})
        if kind != "answer":
            return kind, None
        cookie = None
        for k, v in headers or []:
            m = re.match(r"latchkey_session=([^;]+)", v) if k.lower() == "set-cookie" else None
            if m:
                cookie = m.group(1)
        return ("ok" if status == 200 and cookie else "failed"), cookie


def run_load(args):
    state = load_state(args.state, args.accounts)
    client = Client(args.port, args.origin, state)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: bench/crash-safety cleans up
    deadline = time.monotonic() + args.max_seconds
    rnd = {"writes_acked": 0, "writes_failed": 0, "writes_unacked": 0, "signins_ok": 0,
           "signins_failed": 0, "signins_unacked": 0, "sessions_lost": 0}
    lock = client.lock

    def count(key, n=1):
        with lock:
            rnd[key] += n

    def count_sign_in(kind):
        # "refused"/"lost": no answer, the server was down or killed: unacknowledged.
        count({"ok": "signins_ok", "failed": "signins_failed", "timeout": "signins_failed"}.get(kind, "signins_unacked"))

    def writer(wid):
        w = state["writers"][wid]
        for _ in range(MAX_REQUESTS_PER_WORKER):
            if stop.is_set() or time.monotonic() > deadline:
                return
            if not w["cookie"]:
                kind, cookie = client.sign_in(w["user"])
                count_sign_in(kind)
                if kind in ("refused", "lost"):
                    return  # the server is gone: wait for the next round
                w["cookie"] = cookie
                if not cookie:
                    time.sleep(0.05)
                continue
            with lock:
                n = w["next"]
                w["next"] = n + 1
            value = f"w{wid}-{n}"
            fields = {"profile[given_name]": value, "profile[family_name]": "Crash", "profile[display_name]": "",
                      "profile[email]": w["email"], "profile[phone]": "", "profile[locale]": "",
                      "profile[time_zone]": "", "profile[picture_url]": ""}
            kind, status, _, body = client.post("/api/account/update_profile", fields, w["cookie"])
            if kind == "refused":
                return  # never sent: cannot be stored
            acked = False
            if kind == "answer" and status == 200:
                try:
                    acked = json.loads(body)["form"]["given_name"] == value
                except (ValueError, KeyError, TypeError):
                    acked = False
            with lock:
                if acked:
                    w["last_acked"] = n
                    w["floor"] = max(w["floor"], n)
                    w["maybe"] = [m for m in w["maybe"] if m > w["floor"]]
                else:
                    # Sent but not acknowledged (in flight at the kill, or an error
                    # answer): it may or may not be stored.
                    w["maybe"].append(n)
            if acked:
                count("writes_acked")
            elif kind == "lost":
                count("writes_unacked")
                return
            else:
                count("writes_failed")
                if kind == "answer" and status == 401:
                    # The session the server acknowledged is gone.
                    count("sessions_lost")
                    w["cookie"] = None
                time.sleep(0.05)

    def signer(sid):
        for i in range(MAX_REQUESTS_PER_WORKER):
            if stop.is_set() or time.monotonic() > deadline:
                return
            user = f"crash{(sid + i * args.signers) % args.accounts}"
            kind, _ = client.sign_in(user)
            count_sign_in(kind)
            if kind in ("refused", "lost"):
                return
            if kind != "ok":
                time.sleep(0.05)

    threads = [threading.Thread(target=writer, args=(str(i),), daemon=True) for i in range(args.accounts)]
    threads += [threading.Thread(target=signer, args=(i,), daemon=True) for i in range(args.signers)]
    started = time.monotonic()
    for t in threads:
        t.start()
    while not stop.is_set() and time.monotonic() < deadline:
        stop.wait(0.1)
    stop.set()
    for t in threads:
        t.join(REQUEST_TIMEOUT + 5)
    alive = sum(t.is_alive() for t in threads)
    with lock:
        for k, v in rnd.items():
            state["totals"][k] += v
        rnd["seconds"] = round(time.monotonic() - started, 2)
        rnd["kill_after"] = args.kill_after
        rnd["stuck_workers"] = alive
        state["rounds"].append(rnd)
        save_state(args.state, state)
    print(f"  load: {rnd['seconds']} s, saves acked {rnd['writes_acked']}, unacked {rnd['writes_unacked']}, "
          f"failed {rnd['writes_failed']}; sign-ins ok {rnd['signins_ok']}, failed {rnd['signins_failed']}, "
          f"unacked {rnd['signins_unacked']}", flush=True)
    if alive:
        print(f"  warning: {alive} workers still waiting for an answer", flush=True)
    sys.exit(0)


def run_check(args):
    """The rule, per worker. Every save carries a new, increasing value
    (w<worker>-<n>). A save the server acknowledged with 200 must be durable, so
    the database must hold either that last acknowledged value, or a value the
    worker sent later whose answer never arrived (in flight when the server was
    killed: it may or may not have been committed, and both are correct). A
    missing value, an older one, or one never sent is a lost acknowledged write.
    A later value found stored becomes the new floor: it may never go back either."""
    with open(args.state) as f:
        state = json.load(f)
    stored = {}
    with open(args.stored) as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                user, _, value = line.partition("\t")
                stored[user] = value
    lost, exact, later, problems = 0, 0, 0, []
    for wid, w in state["writers"].items():
        value = stored.get(w["user"], "")
        m = re.fullmatch(r"w(\d+)-(\d+)", value)
        n = int(m.group(2)) if m and m.group(1) == wid else None
        floor = w["floor"]
        if n is not None and n == floor and floor > 0:
            exact += 1
        elif n is not None and n > floor and n in w["maybe"]:
            later += 1
            w["floor"] = n
            w["maybe"] = [x for x in w["maybe"] if x > n]
        elif floor == 0 and value == "":
            exact += 1  # nothing acknowledged yet and nothing stored: nothing lost
        else:
            lost += 1
            problems.append(f"{w['user']}: stored {value!r}; expected w{wid}-{floor} (last acknowledged: "
                            f"w{wid}-{w['last_acked']}) or a later value that was in flight")
    t = state["totals"]
    t["checked"] += len(state["writers"])
    t["found_exact"] += exact
    t["found_later"] += later
    t["lost"] += lost
    state["rounds"][-1]["check"] = {"exact": exact, "later": later, "lost": lost, "integrity": args.integrity}
    save_state(args.state, state)
    print(f"  check: {len(state['writers'])} workers, last ack found {exact}, later in-flight value stored {later}, "
          f"LOST {lost}; integrity {args.integrity}", flush=True)
    for p in problems:
        print(f"    lost: {p}", flush=True)


def run_report(args):
    with open(args.state) as f:
        state = json.load(f)
    t, rounds = state["totals"], state["rounds"]
    kills = [r for r in rounds if "check" in r]
    integ = [r["check"]["integrity"] for r in kills]
    found = t["found_exact"] + t["found_later"]
    print(f"## {args.label}")
    print(f"rounds (kill -9 mid-load, then restart): {len(kills)}; killed after "
          + ", ".join(f"{r.get('kill_after', 0):.1f}" for r in kills) + " s of load")
    print(f"restarts on the crashed database:        {args.restarts} (ready in {args.ready_ms} ms)")
    print(f"profile saves acknowledged (200):        {t['writes_acked']}")
    print(f"profile saves unacknowledged (in flight at a kill): {t['writes_unacked']}; failed (error answer): {t['writes_failed']}")
    print(f"last acknowledged save per worker, checked after each kill: {t['checked']} "
          f"({len(state['writers'])} workers x {len(kills)} kills)")
    print(f"  found: {found} ({t['found_exact']} the last acknowledged value, {t['found_later']} a later in-flight value)")
    print(f"  lost:  {t['lost']} (goal 0)")
    print(f"sign-ins ok / failed / unacknowledged:   {t['signins_ok']} / {t['signins_failed']} / {t['signins_unacked']}")
    print(f"acknowledged sessions lost across a restart: {t['sessions_lost']}")
    verdict = lambda i: (i.split() or [""])[0]  # "ok ...", "n/a ..." (no checker) or an error
    ok = sum(1 for i in integ if verdict(i) == "ok")
    bad_integ = [i for i in integ if verdict(i) not in ("ok", "n/a")]
    detail = sorted(set(integ))[0] if len(set(integ)) == 1 else "; ".join(sorted(set(integ)))
    print(f"integrity check after each kill:          {ok}/{len(integ)} ok: {detail}")
    print(f"integrity check at the end:               {args.final_integrity}")
    bad = t["lost"] or bad_integ or t["sessions_lost"] or verdict(args.final_integrity) not in ("ok", "n/a")
    sys.exit(1 if bad else 0)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("load")
    a.add_argument("--port", type=int, required=True)
    a.add_argument("--origin", required=True)
    a.add_argument("--state", required=True)
    a.add_argument("--accounts", type=int, default=8)
    a.add_argument("--signers", type=int, default=4)
    a.add_argument("--max-seconds", type=float, default=30)
    a.add_argument("--kill-after", type=float, default=0, help="when the server will be killed (for the report)")
    c = sub.add_parser("check")
    c.add_argument("--state", required=True)
    c.add_argument("--stored", required=True)
    c.add_argument("--integrity", required=True)
    r = sub.add_parser("report")
    r.add_argument("--state", required=True)
    r.add_argument("--label", required=True)
    r.add_argument("--restarts", required=True)
    r.add_argument("--ready-ms", required=True)
    r.add_argument("--final-integrity", required=True)
    args = p.parse_args()
    {"load": run_load, "check": run_check, "report": run_report}[args.cmd](args)


if __name__ == "__main__":
    main()
