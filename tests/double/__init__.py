"""Test double of a Mattermost 5.36 server (REST + websocket + integration calls).

from tests.double import MattermostDouble
"""

from .double import MattermostDouble
from .errors import MattermostHTTPError
from .state import Channel, ClickResult, Command, RequestRecord, Team, User

__all__ = [
    "Channel",
    "ClickResult",
    "Command",
    "MattermostDouble",
    "MattermostHTTPError",
    "RequestRecord",
    "Team",
    "User",
]
