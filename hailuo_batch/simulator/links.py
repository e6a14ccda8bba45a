"""Expiring video links, signed like presigned storage URLs. No I/O.

A link's token carries what to deliver (the video's size, length and sound, and whose
video it is) and when the link dies, signed with a per-app secret: nothing is stored per link, so
handing a fresh URL to every poll costs nothing. The token states its expiry in Unix
time, so an instance sharing the secret (kept in a state file) opens links an earlier one
minted. Expiry is checked on the simulator's clock (precise); the URL's visible epoch
(`q-sign-time`, `Expires`, `X-Goog-Date` + `X-Goog-Expires`) is rounded down, as a client
should read it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from hailuo_batch.simulator.video import VideoSpec


@dataclass(frozen=True, slots=True)
class Link:
    """A freshly minted link: its token, and when it expires (clock time and Unix time)."""

    token: str
    signature: str  # hex, for the URL's visible signature parameter
    expires: float
    issued_epoch: int
    expires_epoch: int


@dataclass(frozen=True, slots=True)
class Claims:
    """What an opened token names: the video, whose it is, and its expiry (clock time)."""

    spec: VideoSpec
    task_id: str  # "" in tokens minted before links named their task
    expires: float


class LinkSigner:
    """Mints and opens signed tokens that name a video and its expiry."""

    __slots__ = ("_clock", "_epoch0", "_secret")

    def __init__(self, secret: bytes, clock: Callable[[], float], epoch0: float) -> None:
        self._secret = secret
        self._clock = clock
        self._epoch0 = epoch0  # Unix time of clock zero

    def __repr__(self) -> str:
        return "<LinkSigner>"

    def mint(self, spec: VideoSpec, ttl: float, task_id: str) -> Link:
        now = self._clock()
        expires_epoch = self._epoch0 + now + ttl
        claims: dict[str, object] = {
            "w": spec.width,
            "h": spec.height,
            "d": spec.duration,
            "t": task_id,
            "x": expires_epoch,
        }
        if spec.audio:  # only then, so silent links read as before
            claims["a"] = True
        payload = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=")
        signature = hmac.new(self._secret, payload, hashlib.sha256).hexdigest()
        return Link(
            token=f"{payload.decode()}.{signature[:32]}",
            signature=signature,
            expires=now + ttl,
            issued_epoch=int(self._epoch0 + now),
            expires_epoch=int(expires_epoch),
        )

    def open(self, token: str) -> Claims | None:
        """What a token names, or None if it was not signed with our secret."""
        payload, _, signature = token.partition(".")
        expected = hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()[:32]
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            return None
        try:
            claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (binascii.Error, orjson.JSONDecodeError):
            return None
        spec = VideoSpec(claims["w"], claims["h"], claims["d"], claims.get("a", False))
        return Claims(spec, claims.get("t", ""), claims["x"] - self._epoch0)

    def expired(self, expires: float) -> bool:
        return self._clock() >= expires
