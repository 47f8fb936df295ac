#!/usr/bin/env python3
"""Drives headless Chromium through the DevTools protocol over a pipe (--remote-debugging-pipe: no
WebSocket library needed), as a reader's browser: open a page, type into fields, press a button, read
what the page says.

Usage: browser.py CHROMIUM PROFILE_DIR STEPS_JSON
STEPS_JSON is a list of steps: {"goto": URL}, {"fill": CSS, "value": TEXT}, {"click": CSS} (waits for
the page the click leads to), {"text": true} (records the page's URL and visible text). Prints one JSON
object: {"pages": [{"url": …, "text": …}, …]}; exits 1 with a message when a step fails."""
import json
import os
import subprocess
import sys
import time


class Browser:
    def __init__(self, chromium, profile):
        to_chrome_read, to_chrome_write = os.pipe()
        from_chrome_read, from_chrome_write = os.pipe()
        # Chromium reads commands on fd 3 and writes replies on fd 4.
        def arrange():
            # Through high numbers first, in case the pipes' own numbers are 3 or 4.
            reading, writing = os.dup(to_chrome_read), os.dup(from_chrome_write)
            os.dup2(reading, 3)
            os.dup2(writing, 4)
        self.process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-pipe",
             "--user-data-dir=" + profile, "about:blank"],
            preexec_fn=arrange, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_read)
        os.close(from_chrome_write)
        self.out = os.fdopen(to_chrome_write, "wb", buffering=0)
        self.inp = os.fdopen(from_chrome_read, "rb", buffering=0)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def read_message(self):
        while b"\0" not in self.buffer:
            chunk = self.inp.read(65536)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=True):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        self.out.write(json.dumps(message).encode() + b"\0")
        while True:
            reply = self.read_message()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for index, event in enumerate(self.events):
                if event.get("method") == method:
                    del self.events[index]
                    return event
            self.events.append(self.read_message())
        raise RuntimeError(f"no {method} within {timeout} s")

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def close(self):
        try:
            self.call("Browser.close", session=False)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def main():
    chromium, profile, steps = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    browser = Browser(chromium, profile)
    pages = []
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        browser.session = browser.call(
            "Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
        browser.call("Page.enable")
        browser.call("Runtime.enable")
        for step in steps:
            if "goto" in step:
                browser.events.clear()
                browser.call("Page.navigate", {"url": step["goto"]})
                browser.wait_for("Page.loadEventFired")
            elif "fill" in step:
                browser.evaluate(
                    f"(() => {{ const e = document.querySelector({json.dumps(step['fill'])}); e.focus(); "
                    f"e.value = {json.dumps(step['value'])}; e.dispatchEvent(new Event('input')); }})()")
            elif "click" in step:
                browser.events = [e for e in browser.events if e.get("method") != "Page.loadEventFired"]
                box = browser.evaluate(
                    f"(() => {{ const r = document.querySelector({json.dumps(step['click'])}).getBoundingClientRect(); "
                    "return [r.left + r.width / 2, r.top + r.height / 2]; })()")
                # A real press: the mouse goes down and up on the button.
                for kind in ("mousePressed", "mouseReleased"):
                    browser.call("Input.dispatchMouseEvent", {
                        "type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1})
                browser.wait_for("Page.loadEventFired")
            elif "text" in step:
                pages.append({"url": browser.evaluate("location.href"),
                              "text": browser.evaluate("document.body ? document.body.innerText : ''")})
    except Exception as error:  # noqa: BLE001
        print(json.dumps({"pages": pages, "error": str(error)}))
        browser.close()
        sys.exit(1)
    browser.close()
    print(json.dumps({"pages": pages}))


if __name__ == "__main__":
    main()
