"""The RingCentral platform as the service sees it: OAuth session, REST client, pacing, retries."""

from __future__ import annotations

from rcinbox.platform.auth import Credentials, TokenManager
from rcinbox.platform.client import PlatformClient
from rcinbox.platform.pacing import Group, Pacer, group_for
from rcinbox.platform.retry import RetryPolicy
from rcinbox.platform.tokenfile import Token
from rcinbox.platform.waits import Waits

__all__ = [
    "Credentials",
    "Group",
    "Pacer",
    "PlatformClient",
    "RetryPolicy",
    "Token",
    "TokenManager",
    "Waits",
    "group_for",
]
