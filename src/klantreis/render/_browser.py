"""Headless Chromium, driven over the DevTools protocol with the standard library only.

Used for PNG and PDF exports (full-page screenshots, landscape A4/A3 PDFs scaled to
fit) and by the tests to open a page and collect console errors and network requests.
Chromium runs as a subprocess with a fresh profile in a temporary folder, no sandbox
(for containers), no GPU, no background networking; it is closed on exit.

The browser is found at ``$KLANTREIS_CHROMIUM``, else ``chromium``,
``chromium-browser``, ``google-chrome`` on the PATH; without one,
:class:`~klantreis.errors.BrowserMissing` says how to install it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from klantreis.errors import BrowserMissing, RenderError
from klantreis.i18n import t

__all__ = ["Browser", "PageReport", "find_chromium"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)

# Wait two frames and a little: charts drawn on load are on the page.
_SETTLE = (
    "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 50))))"
)
_SIZE = """(() => {
  const d = document.documentElement, b = document.body || d;
  return [Math.ceil(Math.max(d.scrollWidth, b.scrollWidth)),
          Math.ceil(Math.max(d.scrollHeight, b.scrollHeight))];
})()"""


def find_chromium(kind: str = "PNG/PDF", lang: str | None = None) -> str:
    """The path of a headless-capable Chromium; raise BrowserMissing when there is none."""
    env = os.environ.get("KLANTREIS_CHROMIUM")
    looked = [env] if env else []
    if env and Path(env).is_file() and os.access(env, os.X_OK):
        return env
    for name in _CANDIDATES:
        looked.append(name)
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing(
        t("render.export.browser_missing", lang, kind=kind, looked=", ".join(looked)),
        hint=t("render.export.browser_hint", lang),
    )


class _WebSocket:
    """A minimal WebSocket client (RFC 6455 text frames), enough for DevTools."""

    def __init__(self, host: str, port: int, path: str, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RenderError("DevTools connection closed during handshake")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise RenderError(f"DevTools handshake failed: {status.decode(errors='replace')}")
        self.buffer = head.split(b"\r\n\r\n", 1)[1]

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buffer)))
            if not chunk:
                raise RenderError("DevTools connection closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send(self, text: str) -> None:
        payload = text.encode()
        header = bytearray([0x81])
        n = len(payload)
        if n < 126:
            header.append(0x80 | n)
        elif n < 1 << 16:
            header.append(0x80 | 126)
            header += struct.pack(">H", n)
        else:
            header.append(0x80 | 127)
            header += struct.pack(">Q", n)
        mask = os.urandom(4)
        header += mask
        masked = (
            bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if n < 4096
            else _mask(payload, mask)
        )
        self.sock.sendall(bytes(header) + masked)

    def recv(self) -> str:
        parts: list[bytes] = []
        while True:
            b1, b2 = self._read(2)
            opcode, n = b1 & 0x0F, b2 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b2 & 0x80 else None
            data = self._read(n)
            if mask:
                data = _mask(data, mask)
            if opcode == 0x8:
                raise RenderError("DevTools connection closed by the browser")
            if opcode == 0x9:  # ping -> pong
                self.sock.sendall(bytes([0x8A, 0x80 | len(data)]) + b"\0\0\0\0" + data)
                continue
            if opcode in (0x1, 0x2, 0x0):
                parts.append(data)
                if b1 & 0x80:
                    return b"".join(parts).decode()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _mask(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")


@dataclass
class PageReport:
    """What happened while a page loaded: console messages, uncaught errors, requests."""

    console: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def console_errors(self) -> list[str]:
        return [m["text"] for m in self.console if m["level"] in ("error", "assert")] + self.errors


class Browser:
    """A headless Chromium with one page, as a context manager.

    with Browser() as b:
        report = b.open("file:///tmp/report.html")
        b.pdf("/tmp/report.pdf", paper="A4")
    """

    def __init__(
        self, *, timeout: float = 60.0, kind: str = "PNG/PDF", lang: str | None = None
    ) -> None:
        self.timeout = timeout
        self.executable = find_chromium(kind, lang)
        self.kind = kind
        self.lang = lang
        self._id = 0
        self._events: list[dict[str, Any]] = []

    # -- lifecycle --------------------------------------------------------------
    def __enter__(self) -> Browser:
        self.profile = tempfile.mkdtemp(prefix="klantreis-chromium-")
        self.proc = subprocess.Popen(
            [self.executable, *_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        try:
            port, path = self._devtools_address()
            self.ws = _WebSocket("127.0.0.1", port, path, self.timeout)
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
                "sessionId"
            ]
            for domain in ("Page", "Runtime", "Network", "Log"):
                self.call(f"{domain}.enable", session=True)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            with contextlib.suppress(RenderError, OSError):
                self.call("Browser.close")
            ws.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def _devtools_address(self) -> tuple[int, str]:
        marker = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RenderError(
                    t(
                        "render.export.browser_failed",
                        self.lang,
                        kind=self.kind,
                        detail=f"{self.executable} exited with code {self.proc.returncode}",
                    )
                )
            if marker.is_file():
                lines = marker.read_text().split()
                if len(lines) >= 2:
                    return int(lines[0]), lines[1]
            time.sleep(0.05)
        raise RenderError(
            t("render.export.browser_failed", self.lang, kind=self.kind, detail="no DevTools port")
        )

    # -- protocol ---------------------------------------------------------------
    def call(self, method: str, *, session: bool = False, **params: Any) -> dict[str, Any]:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RenderError(
                        t(
                            "render.export.browser_failed",
                            self.lang,
                            kind=self.kind,
                            detail=f"{method}: {reply['error'].get('message')}",
                        )
                    )
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)
        raise RenderError(
            t(
                "render.export.browser_failed",
                self.lang,
                kind=self.kind,
                detail=f"{method} timed out",
            )
        )

    def _wait_event(self, method: str, seen: int = 0) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if any(e["method"] == method for e in self._events[seen:]):
                return
            reply = json.loads(self.ws.recv())
            if "method" in reply:
                self._events.append(reply)
        raise RenderError(
            t(
                "render.export.browser_failed",
                self.lang,
                kind=self.kind,
                detail=f"{method} timed out",
            )
        )

    # -- pages ----------------------------------------------------------------------
    def open(self, url: str, *, width: int = 1600, height: int = 1000) -> PageReport:
        """Load ``url`` (waits for the load event and two frames); report what happened."""
        self._events.clear()
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        seen = len(self._events)
        self.call("Page.navigate", session=True, url=url)
        self._wait_event("Page.loadEventFired", seen)
        self.evaluate(_SETTLE)
        return self._page_report()

    def _page_report(self) -> PageReport:
        report = PageReport()
        for event in self._events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled":
                text = " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params.get("args", [])
                )
                report.console.append({"level": params.get("type"), "text": text})
            elif method == "Log.entryAdded":
                entry = params.get("entry", {})
                report.console.append({"level": entry.get("level"), "text": entry.get("text", "")})
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                report.errors.append(
                    details.get("exception", {}).get("description") or details.get("text", "")
                )
            elif method == "Network.requestWillBeSent":
                report.requests.append(params.get("request", {}).get("url", ""))
        return report

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate",
            session=True,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        return result.get("result", {}).get("value")

    def content_size(self) -> tuple[int, int]:
        size = self.evaluate(_SIZE)
        return int(size[0]), int(size[1])

    def screenshot(self, path: str | os.PathLike[str], *, scale: float = 1.0) -> Path:
        """A PNG of the whole page (not just the window)."""
        width, height = self.content_size()
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=width,
            height=height,
            deviceScaleFactor=scale,
            mobile=False,
        )
        data = self.call(
            "Page.captureScreenshot",
            session=True,
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        )["data"]
        target = Path(path)
        target.write_bytes(base64.b64decode(data))
        return target

    def pdf(self, path: str | os.PathLike[str], *, paper: str = "A4", fit: str = "width") -> Path:
        """A landscape PDF; ``fit='page'`` scales the content to one page, 'width' to the
        page width (more pages as needed)."""
        sizes = {"A4": (11.69, 8.27), "A3": (16.54, 11.69)}  # landscape inches
        if paper not in sizes:
            from klantreis.errors import InvalidSpec

            raise InvalidSpec("paper", "unknown paper size", value=paper, allowed=list(sizes))
        page_w, page_h = sizes[paper]
        margin = 0.3
        width, height = self.content_size()
        usable_w, usable_h = (page_w - 2 * margin) * 96, (page_h - 2 * margin) * 96
        scale = min(1.0, usable_w / max(width, 1))
        if fit == "page":
            scale = min(scale, usable_h / max(height, 1))
        scale = max(0.1, scale * 0.995)
        data = self.call(
            "Page.printToPDF",
            session=True,
            landscape=False,  # the paper size below is already landscape
            paperWidth=page_w,
            paperHeight=page_h,
            marginTop=margin,
            marginBottom=margin,
            marginLeft=margin,
            marginRight=margin,
            printBackground=True,
            scale=scale,
            preferCSSPageSize=False,
        )["data"]
        target = Path(path)
        target.write_bytes(base64.b64decode(data))
        return target
