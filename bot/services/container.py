"""Everything a command, button or dialog handler may use, built once by the app."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.domain.signing import Signer
from bot.render.views import ButtonMaker
from bot.services.directory import Directory
from bot.services.incidents import IncidentService
from bot.services.memberships import Memberships
from bot.services.notify import Notifier
from bot.services.playbooks import PlaybookService
from bot.services.ports import ChatClient, Nonces
from bot.services.review import ReviewService
from bot.services.status import StatusService
from bot.services.testdata import TestData
from bot.services.webhooks import Webhooks
from bot.settings import Settings
from bot.tasks import TaskTracker


@dataclass
class Urls:
    command: str
    action: str
    dialog: str
    mattermost: str


@dataclass
class Services:
    settings: Settings
    chat: ChatClient
    clock: Clock
    signer: Signer
    buttons: ButtonMaker  # bot/interactions/buttons.py, built by the app
    directory: Directory
    notifier: Notifier
    incidents: IncidentService
    playbooks: PlaybookService
    nonces: Nonces
    tasks: TaskTracker
    urls: Urls
    bot_user_id: str
    status: StatusService
    # ---- review, export, stats, test data (issue 6) ----
    review: ReviewService
    testdata: TestData
    # ---- outgoing webhooks (issue 14) ----
    webhooks: Webhooks
    # ---- incident-channel membership, followed (issue 12) ----
    memberships: Memberships

    def severity_levels(self) -> list[str]:
        """From ``playbooks.yaml`` if it names any, else from the settings."""
        return self.playbooks.severity_levels or list(self.settings.severity_levels)
