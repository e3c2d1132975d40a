"""Segments: a small readable query language, parsed into a validated condition tree.

    orders_count >= 3 AND last_order_days <= 90 AND rfm_group = 'champions'
    is_member = false AND total_spent > 500
    bought_category('books') AND NOT bought_product('sku-123')

Grammar (keywords case-insensitive):

    expr       := and_expr ("OR" and_expr)*
    and_expr   := not_expr ("AND" not_expr)*
    not_expr   := "NOT" not_expr | primary
    primary    := "(" expr ")" | call | comparison
    comparison := FIELD OP literal            OP: = != < <= > >=
    call       := FUNCTION "(" literal ("," literal)* ")"
    literal    := NUMBER | 'text' | "text" | true | false

Every error names the offending token and its position; nothing here raises anything
but SegmentSyntaxError for a bad definition. Evaluation is pure: a profile's values, the
segment tree and "now" in, a boolean and the next time the answer can change by the
passage of time alone out.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.errors import BadRequest, NotFound


class FieldType(StrEnum):
    NUMBER = "number"
    BOOL = "bool"
    TEXT = "text"


RFM_GROUPS = (
    "champions",
    "loyal",
    "potential_loyalist",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose",
    "hibernating",
    "lost",
)
LIFECYCLE_STAGES = ("prospect", "new", "active", "at_risk", "lapsed", "churned")

# Built-in segment ids: `lifecycle:<stage>`, `rfm:<group>` and `account:member|guest`.
BUILTIN_PREFIXES = ("lifecycle:", "rfm:", "account:")
ACCOUNT_KINDS = ("member", "guest")


def check_builtin(segment_id: str) -> None:
    """A 404 for a built-in segment id that names no stage, group or account kind."""
    kind, _, value = segment_id.partition(":")
    allowed = {"lifecycle": LIFECYCLE_STAGES, "rfm": RFM_GROUPS, "account": ACCOUNT_KINDS}[kind]
    if value not in allowed:
        raise NotFound("segment not found")


CONSENT_STATES = ("subscribed", "unsubscribed", "not_subscribed", "pending", "unknown")


@dataclass(frozen=True)
class FieldSpec:
    type: FieldType
    description: str
    choices: tuple[str, ...] = ()
    since: str | None = None  # for *_days fields: the timestamp the days count from
    decays: bool = False  # a model score: falls, day by day, while no order comes
    loyalty: bool = False  # read from the points balance and the tier state, not the profile
    tickets: bool = False  # read from the customer's ticket facts (domain/service/facts.py)


FIELDS: dict[str, FieldSpec] = {
    "orders_count": FieldSpec(FieldType.NUMBER, "orders that count (not cancelled)"),
    "total_spent": FieldSpec(FieldType.NUMBER, "gross spend, workspace currency"),
    "total_refunded": FieldSpec(FieldType.NUMBER, "refunds, workspace currency"),
    "net_spent": FieldSpec(FieldType.NUMBER, "spend minus refunds"),
    "average_order_value": FieldSpec(FieldType.NUMBER, "spend / orders"),
    "average_days_between_orders": FieldSpec(FieldType.NUMBER, "the customer's own rhythm"),
    "last_order_days": FieldSpec(FieldType.NUMBER, "whole days since the last order", since="last_order_at"),
    "first_order_days": FieldSpec(
        FieldType.NUMBER, "whole days since the first order", since="first_order_at"
    ),
    "customer_days": FieldSpec(FieldType.NUMBER, "whole days since the profile began", since="created_at"),
    "is_member": FieldSpec(FieldType.BOOL, "has an account with a storefront"),
    "email_consent": FieldSpec(FieldType.TEXT, "email marketing consent", CONSENT_STATES),
    "sms_consent": FieldSpec(FieldType.TEXT, "SMS marketing consent", CONSENT_STATES),
    "rfm_group": FieldSpec(FieldType.TEXT, "named RFM group", RFM_GROUPS),
    "r_score": FieldSpec(FieldType.NUMBER, "recency quintile score 1-5"),
    "f_score": FieldSpec(FieldType.NUMBER, "frequency quintile score 1-5"),
    "m_score": FieldSpec(FieldType.NUMBER, "monetary quintile score 1-5"),
    "lifecycle": FieldSpec(FieldType.TEXT, "lifecycle stage", LIFECYCLE_STAGES),
    "p_alive": FieldSpec(FieldType.NUMBER, "probability of still being active (BG/NBD)", decays=True),
    "expected_purchases_90": FieldSpec(FieldType.NUMBER, "expected purchases in 90 days", decays=True),
    "clv": FieldSpec(FieldType.NUMBER, "expected value over the next 365 days", decays=True),
    "points_balance": FieldSpec(FieldType.NUMBER, "loyalty points available today", loyalty=True),
    "points_pending": FieldSpec(FieldType.NUMBER, "loyalty points still pending", loyalty=True),
    "tier": FieldSpec(FieldType.TEXT, "the loyalty tier's name ('' without one)", loyalty=True),
    "tier_since_days": FieldSpec(
        FieldType.NUMBER, "whole days in the current tier", since="tier_since", loyalty=True
    ),
    "open_tickets": FieldSpec(FieldType.NUMBER, "tickets not solved nor closed", tickets=True),
    "open_complaints": FieldSpec(FieldType.NUMBER, "complaints not solved nor closed", tickets=True),
    "last_csat": FieldSpec(
        FieldType.NUMBER, "the latest CSAT answer's score 1-5 (none: never)", tickets=True
    ),
    "last_ticket_days": FieldSpec(
        FieldType.NUMBER,
        "whole days since the latest ticket was opened",
        since="last_ticket_at",
        tickets=True,
    ),
}
LOYALTY_FIELDS = frozenset(name for name, spec in FIELDS.items() if spec.loyalty)
FUNCTIONS: dict[str, str] = {
    "bought_product": "bought any of these product ids or SKUs",
    "bought_category": "bought in any of these categories",
    "bought_from_source": "ordered from any of these sources",
    "used_channel": "ordered through any of these channels (web, pos, app, ...)",
    "points_expiring_within": "points expiring within N days: points_expiring_within(30) >= 100",
    "complaints_in_last_days": "complaints opened in the last N days (N up to 365): "
    "complaints_in_last_days(30) >= 1",
}
MEASURES = frozenset({"points_expiring_within", "complaints_in_last_days"})  # one whole-days argument
MEASURE_MAX_DAYS = {"points_expiring_within": 3660, "complaints_in_last_days": 365}
TICKET_FIELDS = frozenset(
    {name for name, spec in FIELDS.items() if spec.tickets} | {"complaints_in_last_days"}
)
OPERATORS = ("=", "!=", "<", "<=", ">", ">=")


class SegmentSyntaxError(BadRequest):
    """A bad definition: the message names the token and its position (0-based)."""

    def __init__(self, message: str, position: int, token: str, expected: list[str] | None = None) -> None:
        details: dict[str, Any] = {"position": position, "token": token}
        if expected:
            details["expected"] = expected
        super().__init__(f"{message} at position {position} ({token!r})", details)
        self.position = position
        self.token = token


# -- condition tree --------------------------------------------------------------------------
class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Compare(_Node):
    kind: Literal["compare"] = "compare"
    field: str
    op: Literal["=", "!=", "<", "<=", ">", ">="]
    value: Decimal | bool | str


class Call(_Node):
    kind: Literal["call"] = "call"
    function: str
    args: tuple[str, ...] = Field(min_length=1)
    op: Literal["=", "!=", "<", "<=", ">", ">="] | None = None  # a measure's comparison
    value: Decimal | None = None


class And(_Node):
    kind: Literal["and"] = "and"
    items: tuple[Condition, ...] = Field(min_length=2)


class Or(_Node):
    kind: Literal["or"] = "or"
    items: tuple[Condition, ...] = Field(min_length=2)


class Not(_Node):
    kind: Literal["not"] = "not"
    item: Condition


Condition = Annotated[Compare | Call | And | Or | Not, Field(discriminator="kind")]
for _model in (And, Or, Not):
    _model.model_rebuild()


# -- tokens ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str  # ident, number, string, op, lparen, rparen, comma, end
    text: str
    position: int


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>-?\d+(?:\.\d+)?)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<op><=|>=|!=|=|<|>)
    | (?P<lparen>\()
    | (?P<rparen>\))
    | (?P<comma>,)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            start = position + (len(text[position:]) - len(text[position:].lstrip()))
            raise SegmentSyntaxError("unexpected character", start, text[start : start + 1])
        kind = match.lastgroup
        raw = match.group(kind)
        tokens.append(Token(kind, raw, match.start(kind)))
        position = match.end()
    if len(text) > 4000:
        raise SegmentSyntaxError("definition longer than 4000 characters", 4000, text[4000:4010])
    tokens.append(Token("end", "", len(text)))
    return tokens


# -- parser ----------------------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.i]

    def keyword(self, word: str) -> bool:
        return self.token.kind == "ident" and self.token.text.upper() == word

    def take(self) -> Token:
        token = self.token
        self.i += 1
        return token

    def parse(self) -> Condition:
        if self.token.kind == "end":
            raise SegmentSyntaxError("empty definition", 0, "")
        tree = self.or_expr()
        if self.token.kind != "end":
            raise SegmentSyntaxError(
                "expected AND, OR or the end", self.token.position, self.token.text, ["AND", "OR"]
            )
        return tree

    def or_expr(self) -> Condition:
        items = [self.and_expr()]
        while self.keyword("OR"):
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(items=tuple(items))

    def and_expr(self) -> Condition:
        items = [self.not_expr()]
        while self.keyword("AND"):
            self.take()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(items=tuple(items))

    def not_expr(self) -> Condition:
        if self.keyword("NOT"):
            self.take()
            return Not(item=self.not_expr())
        return self.primary()

    def primary(self) -> Condition:
        token = self.token
        if token.kind == "lparen":
            self.take()
            inner = self.or_expr()
            if self.token.kind != "rparen":
                raise SegmentSyntaxError("expected ')'", self.token.position, self.token.text, [")"])
            self.take()
            return inner
        if token.kind != "ident" or token.text.upper() in ("AND", "OR", "NOT"):
            raise SegmentSyntaxError(
                "expected a field or a function",
                token.position,
                token.text,
                sorted(FIELDS) + sorted(FUNCTIONS),
            )
        name = token.text.lower()
        self.take()
        if self.token.kind == "lparen":
            return self.call(name, token)
        return self.comparison(name, token)

    def call(self, name: str, token: Token) -> Call:
        if name not in FUNCTIONS:
            raise SegmentSyntaxError(
                f"unknown function{_did_you_mean(name, FUNCTIONS)}",
                token.position,
                token.text,
                sorted(FUNCTIONS),
            )
        self.take()  # (
        args: list[str] = []
        while True:
            arg = self.take()
            if arg.kind not in ("string", "number"):
                raise SegmentSyntaxError("expected a quoted value", arg.position, arg.text)
            args.append(_unquote(arg.text) if arg.kind == "string" else arg.text)
            separator = self.take()
            if separator.kind == "rparen":
                call = Call(function=name, args=tuple(args))
                return self.measure(call, token) if name in MEASURES else call
            if separator.kind != "comma":
                raise SegmentSyntaxError(
                    "expected ',' or ')'", separator.position, separator.text, [",", ")"]
                )

    def measure(self, call: Call, token: Token) -> Call:
        """`points_expiring_within(days) >= n`: one whole number of days, then a comparison."""
        most = MEASURE_MAX_DAYS[call.function]
        if len(call.args) != 1 or not call.args[0].isdigit() or int(call.args[0]) > most:
            raise SegmentSyntaxError(
                f"{call.function} takes whole days (at most {most})", token.position, token.text
            )
        op = self.take()
        if op.kind != "op":
            raise SegmentSyntaxError("expected a comparison", op.position, op.text, list(OPERATORS))
        if (literal := self.take()).kind != "number":
            raise SegmentSyntaxError("expected a number", literal.position, literal.text)
        return call.model_copy(update={"op": op.text, "value": Decimal(literal.text)})

    def comparison(self, name: str, token: Token) -> Compare:
        spec = FIELDS.get(name)
        if spec is None:
            raise SegmentSyntaxError(
                f"unknown field{_did_you_mean(name, FIELDS)}", token.position, token.text, sorted(FIELDS)
            )
        op = self.take()
        if op.kind != "op":
            raise SegmentSyntaxError("expected a comparison", op.position, op.text, list(OPERATORS))
        literal = self.take()
        value = _literal(literal, spec, name)
        if spec.type is not FieldType.NUMBER and op.text not in ("=", "!="):
            raise SegmentSyntaxError(
                f"{name} is {spec.type.value}: only = and != apply", op.position, op.text, ["=", "!="]
            )
        return Compare(field=name, op=op.text, value=value)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _did_you_mean(name: str, known: dict[str, Any]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]}?" if close else ""


def _literal(token: Token, spec: FieldSpec, field: str) -> Decimal | bool | str:
    if spec.type is FieldType.NUMBER:
        if token.kind != "number":
            raise SegmentSyntaxError(f"{field} compares with a number", token.position, token.text)
        try:
            return Decimal(token.text)
        except InvalidOperation as exc:  # pragma: no cover - the tokenizer only passes numbers
            raise SegmentSyntaxError("not a number", token.position, token.text) from exc
    if spec.type is FieldType.BOOL:
        if token.kind != "ident" or token.text.lower() not in ("true", "false"):
            raise SegmentSyntaxError(
                f"{field} compares with true or false", token.position, token.text, ["true", "false"]
            )
        return token.text.lower() == "true"
    if token.kind != "string":
        raise SegmentSyntaxError(
            f"{field} compares with a quoted value",
            token.position,
            token.text,
            [f"'{c}'" for c in spec.choices],
        )
    value = _unquote(token.text)
    if spec.choices and value not in spec.choices:
        raise SegmentSyntaxError(
            f"{field} is one of {', '.join(spec.choices)}", token.position, token.text, list(spec.choices)
        )
    return value


def parse(text: str) -> Condition:
    """Parse and validate a definition; raises SegmentSyntaxError (a 400) when it is bad."""
    return _Parser(text).parse()


def to_text(condition: Condition) -> str:
    """The canonical text of a tree (parse(to_text(c)) == c)."""
    if isinstance(condition, Compare):
        value = condition.value
        if isinstance(value, bool):
            shown = "true" if value else "false"
        elif isinstance(value, Decimal):
            shown = str(value)
        else:
            shown = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return f"{condition.field} {condition.op} {shown}"
    if isinstance(condition, Call) and condition.op is not None:
        return f"{condition.function}({condition.args[0]}) {condition.op} {condition.value}"
    if isinstance(condition, Call):
        args = ", ".join("'" + a.replace("\\", "\\\\").replace("'", "\\'") + "'" for a in condition.args)
        return f"{condition.function}({args})"
    if isinstance(condition, Not):
        return f"NOT {_wrap(condition.item)}"
    joiner = " AND " if isinstance(condition, And) else " OR "
    return joiner.join(_wrap(item) for item in condition.items)


def _wrap(condition: Condition) -> str:
    return f"({to_text(condition)})" if isinstance(condition, And | Or) else to_text(condition)


def fields_used(condition: Condition) -> set[str]:
    if isinstance(condition, Compare):
        return {condition.field}
    if isinstance(condition, Call):
        return {condition.function}
    if isinstance(condition, Not):
        return fields_used(condition.item)
    return set().union(*(fields_used(item) for item in condition.items))


def is_time_based(condition: Condition) -> bool:
    time_fields = {name for name, spec in FIELDS.items() if spec.since or spec.decays} | {
        "lifecycle",
        "r_score",
        "rfm_group",
        "points_balance",
        "points_pending",
        "points_expiring_within",
        "complaints_in_last_days",
    }
    return bool(fields_used(condition) & time_fields)
