"""The users table: each user's plan, contact address and web account.

An account is the user's item (key ``user_id``, a uuid4) plus a second item
keyed ``email#<address>`` that names its owner: the table's only key is
user_id, and a transaction that puts both items on condition that neither
exists makes an address unique without a scan or a secondary index (a GSI is
eventually consistent, so it could not refuse a concurrent duplicate).
``#`` can never appear in a user id (gas.core.keys), so the two kinds of
item cannot collide.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from email_validator import EmailNotValidError, validate_email

from gas.core.aws import is_error
from gas.core.settings import Settings

Plan = Literal["free", "premium"]
PLANS: tuple[Plan, ...] = ("free", "premium")


MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100
EMAIL_KEY_PREFIX = "email#"
STRIPE_KEY_PREFIX = "stripe#"


@dataclass(frozen=True, slots=True)
class StripeIds:
    """A user's Stripe customer and current subscription, as recorded (None: none)."""

    customer_id: str | None
    subscription_id: str | None


class EmailTaken(ValueError):
    """Another account already uses this email address."""


@dataclass(frozen=True, slots=True)
class Account:
    """A web account; ``member_since`` is whole epoch seconds (UTC)."""

    user_id: str
    email: str
    name: str
    password_hash: str
    plan: Plan
    member_since: int
    session_version: int = 0  # sessions signed with another version have ended


def normalize_email(email: str) -> str:
    """The address as accounts are keyed and mail is sent: one address, checked by
    email-validator (syntax only: no DNS), then lower-cased; ValueError if not one.

    Lists (``a@x.org,b@y.org``), control characters, header injection, special-use
    domains (``localhost``) and anything longer than MAX_EMAIL_LENGTH are refused.
    """
    address = email.strip()
    if len(address) > MAX_EMAIL_LENGTH:  # before parsing: bounds the work on hostile input
        raise ValueError("please enter a valid email address")
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("please enter a valid email address") from None
    return str(checked.normalized).lower()


def upload_limit_bytes(settings: Settings, plan: Plan) -> int:
    """The largest input file, in bytes, a user on this plan may submit."""
    if plan == "premium":
        return settings.premium_upload_limit_bytes
    return settings.free_upload_limit_bytes


class UserRepository:
    """Reads users from the ``<stack>-users`` table (key user_id)."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._db = dynamodb
        self.table_name = table_name

    def plan(self, user_id: str) -> Plan:
        """The user's plan; a user with no item, or no plan recorded, is on the Free plan."""
        item = self._db.get_item(
            TableName=self.table_name, Key={"user_id": {"S": user_id}}, ConsistentRead=True
        ).get("Item", {})
        recorded = item.get("plan", {}).get("S")
        return "premium" if recorded == "premium" else "free"

    def set_plan(self, user_id: str, plan: Plan) -> None:
        """Record a user's plan, creating the user's item if needed."""
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}, not {plan!r}")
        self._db.update_item(
            TableName=self.table_name,
            Key={"user_id": {"S": user_id}},
            UpdateExpression="SET #plan = :plan",
            ExpressionAttributeNames={"#plan": "plan"},
            ExpressionAttributeValues={":plan": {"S": plan}},
        )

    def email(self, user_id: str) -> str | None:
        """Where to write to the user: one valid address, checked again before any mail
        goes out (an item written before the rules were strict may hold a list); None
        when the user has no usable address on record."""
        item = self._db.get_item(
            TableName=self.table_name, Key={"user_id": {"S": user_id}}, ConsistentRead=True
        ).get("Item", {})
        address = item.get("email", {}).get("S")
        try:
            return normalize_email(str(address)) if address else None
        except ValueError:
            return None

    def set_email(self, user_id: str, email: str) -> None:
        """Record a user's address (normalised), creating the user's item if needed."""
        try:
            email = normalize_email(email)
        except ValueError:
            raise ValueError(f"not an email address: {email!r}") from None
        self._db.update_item(
            TableName=self.table_name,
            Key={"user_id": {"S": user_id}},
            UpdateExpression="SET email = :email",
            ExpressionAttributeValues={":email": {"S": email}},
        )

    # Accounts (the web app) ------------------------------------------------

    def create_user(self, email: str, name: str, password_hash: str, now: int) -> Account:
        """Create an account on the Free plan; EmailTaken if the address is in use.

        Both items are written in one transaction, each on condition that it
        does not exist yet, so two concurrent sign-ups with one address
        cannot both succeed.
        """
        address = normalize_email(email)
        name = name.strip()
        if not 1 <= len(name) <= MAX_NAME_LENGTH:
            raise ValueError(f"the name must be 1 to {MAX_NAME_LENGTH} characters")
        account = Account(str(uuid.uuid4()), address, name, password_hash, "free", now)
        item = {
            "user_id": {"S": account.user_id},
            "email": {"S": address},
            "name": {"S": name},
            "password_hash": {"S": password_hash},
            "plan": {"S": account.plan},
            "member_since": {"N": str(now)},
        }
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {
                                "user_id": {"S": EMAIL_KEY_PREFIX + address},
                                "owner_user_id": {"S": account.user_id},
                            },
                            "ConditionExpression": "attribute_not_exists(user_id)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(user_id)",
                        }
                    },
                ]
            )
        except Exception as exc:
            if is_error(exc, "TransactionCanceledException"):
                raise EmailTaken("an account with this email address already exists") from None
            raise
        return account

    def account(self, user_id: str) -> Account | None:
        """The account with this id; None for unknown ids and users without a web account."""
        if user_id.startswith(EMAIL_KEY_PREFIX):
            return None
        item = self._db.get_item(
            TableName=self.table_name, Key={"user_id": {"S": user_id}}, ConsistentRead=True
        ).get("Item")
        if not item or "password_hash" not in item:
            return None
        return Account(
            user_id=user_id,
            email=item.get("email", {}).get("S", ""),
            name=item.get("name", {}).get("S", ""),
            password_hash=item["password_hash"]["S"],
            plan="premium" if item.get("plan", {}).get("S") == "premium" else "free",
            member_since=int(item.get("member_since", {}).get("N", "0")),
            session_version=int(item.get("session_version", {}).get("N", "0")),
        )

    def end_sessions(self, user_id: str) -> None:
        """End every session of this account, on every web server: the version that
        sessions must carry moves on (logout; a password change must call it too)."""
        self._db.update_item(
            TableName=self.table_name,
            Key={"user_id": {"S": user_id}},
            UpdateExpression="ADD session_version :one",
            ConditionExpression="attribute_exists(password_hash)",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    def account_by_email(self, email: str) -> Account | None:
        """The account registered with this address (case-insensitive), if any."""
        try:
            address = normalize_email(email)
        except ValueError:
            return None
        owner = self._db.get_item(
            TableName=self.table_name,
            Key={"user_id": {"S": EMAIL_KEY_PREFIX + address}},
            ConsistentRead=True,
        ).get("Item")
        if not owner:
            return None
        return self.account(owner["owner_user_id"]["S"])

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Replace an account's password hash (e.g. rehashed with stronger parameters)."""
        self._db.update_item(
            TableName=self.table_name,
            Key={"user_id": {"S": user_id}},
            UpdateExpression="SET password_hash = :hash",
            ConditionExpression="attribute_exists(password_hash)",
            ExpressionAttributeValues={":hash": {"S": password_hash}},
        )

    # Billing (issue 4) -----------------------------------------------------
    #
    # The user's item records stripe_customer_id and stripe_subscription_id; a
    # second item keyed ``stripe#<customer id>`` names the customer's owner, so a
    # Stripe webhook (which knows only the customer) finds the user without a scan.

    def change_plan(self, user_id: str, plan: Plan) -> bool:
        """Record ``plan`` unless the user is on it already; True when this call changed it.

        A conditional write: of two concurrent changes to the same plan (the web's
        subscribe and Stripe's webhook, say) exactly one returns True, so only one
        of them goes on to publish the restore or archive request.
        """
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}, not {plan!r}")
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key={"user_id": {"S": user_id}},
                UpdateExpression="SET #plan = :plan",
                ConditionExpression="attribute_not_exists(#plan) OR #plan <> :plan",
                ExpressionAttributeNames={"#plan": "plan"},
                ExpressionAttributeValues={":plan": {"S": plan}},
            )
        except Exception as exc:
            if is_error(exc, "ConditionalCheckFailedException"):
                return False
            raise
        return True

    def stripe_ids(self, user_id: str) -> StripeIds:
        """The user's Stripe customer and current subscription (either may be None)."""
        item = self._db.get_item(
            TableName=self.table_name, Key={"user_id": {"S": user_id}}, ConsistentRead=True
        ).get("Item", {})
        customer = item.get("stripe_customer_id", {}).get("S")
        subscription = item.get("stripe_subscription_id", {}).get("S")
        return StripeIds(customer or None, subscription or None)

    def set_stripe_customer(self, user_id: str, customer_id: str) -> None:
        """Record the user's Stripe customer and the ``stripe#<customer>`` owner item."""
        self._db.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            "user_id": {"S": STRIPE_KEY_PREFIX + customer_id},
                            "owner_user_id": {"S": user_id},
                        },
                    }
                },
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": {"user_id": {"S": user_id}},
                        "UpdateExpression": "SET stripe_customer_id = :customer",
                        "ExpressionAttributeValues": {":customer": {"S": customer_id}},
                    }
                },
            ]
        )

    def set_stripe_subscription(self, user_id: str, subscription_id: str | None) -> None:
        """Record the user's current Stripe subscription (None: the user has none)."""
        if subscription_id is None:
            self._db.update_item(
                TableName=self.table_name,
                Key={"user_id": {"S": user_id}},
                UpdateExpression="REMOVE stripe_subscription_id",
            )
            return
        self._db.update_item(
            TableName=self.table_name,
            Key={"user_id": {"S": user_id}},
            UpdateExpression="SET stripe_subscription_id = :subscription",
            ExpressionAttributeValues={":subscription": {"S": subscription_id}},
        )

    def clear_stripe_subscription(self, user_id: str, subscription_id: str) -> bool:
        """Forget the current subscription if it is ``subscription_id``; True when it was."""
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key={"user_id": {"S": user_id}},
                UpdateExpression="REMOVE stripe_subscription_id",
                ConditionExpression="stripe_subscription_id = :subscription",
                ExpressionAttributeValues={":subscription": {"S": subscription_id}},
            )
        except Exception as exc:
            if is_error(exc, "ConditionalCheckFailedException"):
                return False
            raise
        return True

    def user_for_stripe_customer(self, customer_id: str) -> str | None:
        """The user whose Stripe customer this is; None for customers GAS did not create."""
        owner = self._db.get_item(
            TableName=self.table_name,
            Key={"user_id": {"S": STRIPE_KEY_PREFIX + customer_id}},
            ConsistentRead=True,
        ).get("Item")
        return str(owner["owner_user_id"]["S"]) if owner else None
