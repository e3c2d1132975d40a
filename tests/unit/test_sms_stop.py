"""The SMS STOP sync: SNS's opted-out list, page by page, onto the profiles of every
workspace, each number once, within a time budget and resumable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.messaging.sms_stop import CursorExpired, SmsStopSync

NOW = datetime(2027, 3, 14, 7, 30, tzinfo=UTC)
JANE, ROB, ANN = "+12125550147", "+12125550199", "+447700900123"


class Numbers:
    """SNS's list in pages: token -> (numbers, next token); `expired` tokens are refused."""

    def __init__(self, pages: dict[str | None, tuple[list[str], str | None]]) -> None:
        self.pages = pages
        self.expired: set[str] = set()
        self.asked: list[str | None] = []

    def page(self, token: str | None) -> tuple[list[str], str | None]:
        self.asked.append(token)
        if token in self.expired:
            raise CursorExpired(token)
        return self.pages[token]


class Ledger:
    def __init__(self) -> None:
        self.marked: dict[str, int] = {}
        self.saved: str | None = None
        self.writes = 0

    def handled(self, numbers: list[str]) -> set[str]:
        return {n for n in numbers if n in self.marked}

    def mark(self, number: str, at: str, customers: int) -> None:
        assert number not in self.marked
        self.marked[number] = customers
        self.writes += 1

    def cursor(self) -> str | None:
        return self.saved

    def set_cursor(self, token: str | None) -> None:
        self.saved = token
        self.writes += 1


@dataclass
class Settings:
    id_salt: str


class Workspaces:
    def workspace_ids(self) -> list[str]:
        return ["ws_a", "ws_b"]

    def settings(self, workspace_id: str) -> Settings:
        return Settings(f"salt-{workspace_id}")


class Profiles:
    """Profiles found by phone: Jane in both workspaces; in ws_b, Ann's profile also lists
    Rob's number, a phone she no longer uses (her current one is her own)."""

    people = {
        ("ws_a", JANE): [CustomerProfile("ws_a", "c_jane_a", phone=JANE)],
        ("ws_b", JANE): [CustomerProfile("ws_b", "c_jane_b", phone=JANE)],
        ("ws_b", ROB): [CustomerProfile("ws_b", "c_ann", phone=ANN)],
    }

    def find_profiles(self, workspace_id: str, salt: str, keys: list[str]) -> list[CustomerProfile]:
        assert salt == f"salt-{workspace_id}"
        ((kind, _, number),) = (k.partition(":") for k in keys)
        assert kind == "phone"
        return self.people.get((workspace_id, number), [])


class Recorder:
    def __init__(self) -> None:
        self.opt_outs: list[tuple[str, str, str, str]] = []
        self.withdrawals: list[tuple[Any, ...]] = []

    def opt_out(self, workspace_id: str, channel: str, customer_id: str, source: str) -> None:
        self.opt_outs.append((workspace_id, channel, customer_id, source))

    def is_opted_out(self, workspace_id: str, channel: str, customer_id: str) -> bool:
        return False

    def withdraw(
        self,
        workspace_id: str,
        customer_id: str,
        channel: str,
        at: str,
        reason: str,
        address: str | None = None,
    ) -> bool:
        self.withdrawals.append((workspace_id, customer_id, channel, at, reason, address))
        return True


def sync(numbers: Numbers, ledger: Ledger, recorder: Recorder) -> SmsStopSync:
    return SmsStopSync(numbers, ledger, Workspaces(), Profiles(), recorder, recorder, clock=lambda: NOW)


def budget(calls_with_time: int) -> Any:
    """A clock of the invocation's time left: a minute for that many calls, then 5 s."""
    calls = iter(range(10_000))
    return lambda: 60.0 if next(calls) < calls_with_time else 5.0


LIST = {None: ([ROB, JANE], "p2"), "p2": ([ANN, JANE], None)}  # SNS may list a number twice


def test_each_listed_number_is_taken_onto_every_workspaces_profile_with_that_phone_once():
    numbers, ledger, recorder = Numbers(LIST), Ledger(), Recorder()
    # When the job runs over the two pages of the list
    result = sync(numbers, ledger, recorder).run(lambda: 60.0)
    # Then Jane's number opted her out, with her consent withdrawn, in both workspaces
    at = "2027-03-14T07:30:00.000000Z"
    assert recorder.opt_outs == [("ws_a", "sms", "c_jane_a", "stop"), ("ws_b", "sms", "c_jane_b", "stop")]
    assert recorder.withdrawals == [
        ("ws_a", "c_jane_a", "sms", at, "stop", JANE),
        ("ws_b", "c_jane_b", "sms", at, "stop", JANE),
    ]
    # And Rob's number, which Ann no longer uses, left her alone; every number is marked once
    assert ledger.marked == {ROB: 0, JANE: 2, ANN: 0}
    assert result == {"pages": 2, "numbers": 4, "handled": 3, "customers": 2, "done": True}
    # When it runs again, then it reads the list and writes nothing
    writes = ledger.writes
    again = sync(numbers, ledger, recorder).run(lambda: 60.0)
    assert (again["handled"], again["done"], ledger.writes) == (0, True, writes)
    assert len(recorder.opt_outs) == 2


def test_a_run_out_of_time_saves_its_page_and_the_next_run_resumes_there():
    numbers, ledger, recorder = Numbers(LIST), Ledger(), Recorder()
    # When the first run runs out of time after the first page (checked before each number
    # and between pages: the fourth check, before Ann, finds 5 s left)
    first = sync(numbers, ledger, recorder).run(budget(3))
    # Then it handled the first page, stopped in the second and saved that page's token
    assert (first["done"], first["handled"], ledger.saved) == (False, 2, "p2")
    assert set(ledger.marked) == {ROB, JANE}
    # When the next run has time, then it starts at that page, finishes and clears the cursor
    numbers.asked.clear()
    second = sync(numbers, ledger, recorder).run(lambda: 60.0)
    assert numbers.asked == ["p2"]
    assert (second["done"], second["handled"], ledger.saved) == (True, 1, None)
    assert set(ledger.marked) == {ROB, JANE, ANN}
    assert len(recorder.opt_outs) == 2  # Jane's two, once each


def test_a_page_token_sns_no_longer_accepts_starts_the_list_again():
    # Given a saved cursor that SNS refuses now
    numbers, ledger, recorder = Numbers(LIST), Ledger(), Recorder()
    ledger.saved = "old"
    numbers.expired.add("old")
    # When the job runs, then it reads the list from its start, handles it and clears the cursor
    result = sync(numbers, ledger, recorder).run(lambda: 60.0)
    assert numbers.asked == ["old", None, "p2"]
    assert (result["done"], result["handled"], ledger.saved) == (True, 3, None)
