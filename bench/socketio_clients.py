"""Hundreds of Socket.IO clients in one thread, for the fan-out benchmark.

One python-socketio client per reader would mean two or three threads each: with 500 readers
the clients' own thread switching, not the server, would set the latency. Here every reader is a
non-blocking socket speaking Engine.IO 4 / Socket.IO 5 over wsproto (websocket only), all driven
by one selector loop, and a delivery is timed when its frame is read."""
from __future__ import annotations

import json
import re
import selectors
import socket
import time

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, RejectConnection, Request, TextMessage

SEQ = re.compile(r'"seq":\s*(\d+)')


class Conn:
    def __init__(self, loop: "Loop", host: str, port: int, cookie: str | None, join: dict, index: int):
        self.loop, self.index, self.join = loop, index, join
        self.state = "handshake"  # -> open -> joined, or failed
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.sock = socket.create_connection((host, port))
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        headers = [(b"origin", f"http://{host}:{port}".encode())]
        if cookie:
            headers.append((b"cookie", cookie.encode()))
        self._out = bytearray(self.ws.send(Request(host=f"{host}:{port}", target="/socket.io/?EIO=4&transport=websocket",
                                                   extra_headers=headers)))
        self._text: list[str] = []
        self.acks: dict[int, object] = {}
        self.seen: dict[int, int] = {}  # seq -> times received
        self.arrival: dict[int, float] = {}
        loop.selector.register(self.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, self)

    def send_text(self, text: str) -> None:
        self._out += self.ws.send(TextMessage(data=text))
        self._flush()

    def emit(self, event: str, data, ack_id: int | None = None) -> None:
        self.send_text("42" + ("" if ack_id is None else str(ack_id)) + json.dumps([event, data]))

    def _flush(self) -> None:
        while self._out:
            try:
                sent = self.sock.send(self._out)
            except BlockingIOError:
                break
            del self._out[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if self._out else 0)
        self.loop.selector.modify(self.sock, events, self)

    def on_ready(self, mask: int) -> None:
        if mask & selectors.EVENT_WRITE:
            self._flush()
        if not mask & selectors.EVENT_READ:
            return
        try:
            data = self.sock.recv(262144)
        except BlockingIOError:
            return
        now = time.perf_counter()
        if not data:
            self.fail("closed by server")
            return
        self.ws.receive_data(data)
        for event in self.ws.events():
            if isinstance(event, AcceptConnection):
                pass
            elif isinstance(event, RejectConnection):
                self.fail("handshake refused")
            elif isinstance(event, Ping):
                self._out += self.ws.send(event.response())
                self._flush()
            elif isinstance(event, CloseConnection):
                self.fail("closed")
            elif isinstance(event, TextMessage):
                self._text.append(event.data)
                if event.message_finished:
                    self._packet("".join(self._text), now)
                    self._text = []

    def _packet(self, text: str, now: float) -> None:
        kind = text[:1]
        if kind == "0":  # Engine.IO open -> Socket.IO connect to "/"
            self.send_text("40")
        elif kind == "2":  # ping
            self.send_text("3")
        elif text.startswith("40"):
            self.state = "open"
            self.emit(self.join[0], self.join[1], ack_id=0)
        elif text.startswith("44"):
            self.fail("connect refused: " + text[2:200])
        elif text.startswith("43"):
            ack_id, _, payload = text[2:].partition("[")
            self.acks[int(ack_id)] = json.loads("[" + payload)[0]
            if int(ack_id) == 0:
                self.state = "joined" if self.acks[0].get("ok") else "failed"
        elif text.startswith('42["chat_message"'):
            match = SEQ.search(text)
            if match:
                seq = int(match.group(1))
                self.seen[seq] = self.seen.get(seq, 0) + 1
                self.arrival.setdefault(seq, now)

    def fail(self, why: str) -> None:
        if self.state != "failed":
            self.state = "failed"
            self.loop.failures.append((self.index, why))
        try:
            self.loop.selector.unregister(self.sock)
        except (KeyError, ValueError):
            pass
        self.sock.close()

    def close(self) -> None:
        if self.state != "failed":
            try:
                self.loop.selector.unregister(self.sock)
            except (KeyError, ValueError):
                pass
            self.sock.close()


class Loop:
    def __init__(self):
        self.selector = selectors.DefaultSelector()
        self.failures: list[tuple[int, str]] = []

    def run(self, until, timeout: float) -> bool:
        """Drive every socket until ``until()`` is true or ``timeout`` seconds pass."""
        deadline = time.perf_counter() + timeout
        while not until():
            left = deadline - time.perf_counter()
            if left <= 0:
                return False
            for key, mask in self.selector.select(min(left, 0.05)):
                key.data.on_ready(mask)
        return True


def connect_all(loop: Loop, host: str, port: int, cookies: list, join: tuple, batch: int = 50,
                timeout: float = 60) -> list[Conn]:
    """Open and join in batches (a real crowd arrives over seconds, not in one instant)."""
    conns: list[Conn] = []
    for start in range(0, len(cookies), batch):
        group = [Conn(loop, host, port, cookie, join, start + i) for i, cookie in enumerate(cookies[start:start + batch])]
        conns.extend(group)
        if not loop.run(lambda: all(c.state in ("joined", "failed") for c in group), timeout):
            raise RuntimeError("clients did not join in time")
    failed = [c for c in conns if c.state != "joined"]
    if failed:
        raise RuntimeError(f"{len(failed)} clients could not join: {loop.failures[:3]}")
    return conns
