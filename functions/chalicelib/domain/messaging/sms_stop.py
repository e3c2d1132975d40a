"""SMS STOP: the numbers that replied STOP, taken from SNS's opted-out list onto the profiles.

A customer who replies STOP to an SMS is put by SNS on the account's opted-out list, and
SNS refuses to send to the number; nothing tells Patron. The hourly `sms_stop_sync` job
reads the list (`ListPhoneNumbersOptedOut`, page by page) and, for each number it has not
handled yet, in every workspace with a profile whose phone is that number, records the
SMS opt-out exactly as the SMS unsubscribe link does: the opt-out item, then the profile's
`sms_consent` withdrawn (`ProfileConsent.withdraw`, reason `stop`). The profile, the
segments on SMS consent, the audience export and every send path then show it. The
number is then marked handled, once: a second run writes nothing.

Within a time budget: a run that stops in the middle of the list saves the page's token,
and the next run resumes there (numbers already marked are skipped).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib.domain.messaging.ports import (
    OptedOutNumbers,
    OptOutStore,
    ProfileConsent,
    ProfileReader,
    StopLedger,
    WorkspaceDirectory,
)
from chalicelib.domain.models import now_utc
from chalicelib.domain.timemath import iso

REASON = "stop"
RESERVE_SECONDS = 10.0  # stop taking numbers when the invocation has less than this left


class CursorExpired(Exception):
    """The provider no longer accepts a saved page token: start the list again."""


class SmsStopSync:
    def __init__(
        self,
        numbers: OptedOutNumbers,
        ledger: StopLedger,
        workspaces: WorkspaceDirectory,
        profiles: ProfileReader,
        opt_outs: OptOutStore,
        consent: ProfileConsent,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.numbers = numbers
        self.ledger = ledger
        self.workspaces = workspaces  # workspace_ids(), settings()
        self.profiles = profiles  # find(): profiles by identity key, through `by_phone`
        self.opt_outs = opt_outs
        self.consent = consent
        self.clock = clock

    def run(self, time_left: Callable[[], float]) -> dict[str, Any]:
        """Take the numbers not yet handled onto the profiles while the invocation has time.
        Counts only (no number is returned or logged)."""
        at = iso(self.clock()) or ""
        result: dict[str, Any] = {"pages": 0, "numbers": 0, "handled": 0, "customers": 0, "done": False}
        saved = token = self.ledger.cursor()
        workspaces: list[str] | None = None
        while True:
            try:
                numbers, following = self.numbers.page(token)
            except CursorExpired:
                if token is None:
                    raise
                token = None  # start the list again; handled numbers are skipped
                continue
            result["pages"] += 1
            result["numbers"] += len(numbers)
            done = self.ledger.handled(numbers)
            for number in dict.fromkeys(n for n in numbers if n not in done):
                if time_left() < RESERVE_SECONDS:
                    return self._stop(result, saved, token)
                if workspaces is None:
                    workspaces = self.workspaces.workspace_ids()
                customers = self._handle(number, at, workspaces)
                self.ledger.mark(number, at, customers)
                result["handled"] += 1
                result["customers"] += customers
            if following is None:
                break
            token = following
            if time_left() < RESERVE_SECONDS:
                return self._stop(result, saved, token)
        if saved is not None:
            self.ledger.set_cursor(None)
        result["done"] = True
        return result

    def _stop(self, result: dict[str, Any], saved: str | None, token: str | None) -> dict[str, Any]:
        if token != saved:
            self.ledger.set_cursor(token)
        return result

    def _handle(self, number: str, at: str, workspaces: list[str]) -> int:
        """The SMS opt-out of every profile whose phone is `number`, in every workspace."""
        customers = 0
        for workspace_id in workspaces:
            settings = self.workspaces.settings(workspace_id)
            if settings is None:
                continue
            for profile in self.profiles.find_profiles(workspace_id, settings.id_salt, [f"phone:{number}"]):
                if profile.phone != number:
                    continue  # a former number of this customer's: their current one still consents
                self.opt_outs.opt_out(workspace_id, "sms", profile.customer_id, REASON)
                self.consent.withdraw(workspace_id, profile.customer_id, "sms", at, REASON, number)
                customers += 1
        return customers
