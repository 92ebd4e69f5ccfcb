"""The users table: each user's plan and contact address (the web issue adds profiles)."""

from __future__ import annotations

from typing import Any, Literal

from handlers.settings import Settings

Plan = Literal["free", "premium"]
PLANS: tuple[Plan, ...] = ("free", "premium")


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
        """Where to write to the user; None when the user has no address on record."""
        item = self._db.get_item(
            TableName=self.table_name, Key={"user_id": {"S": user_id}}, ConsistentRead=True
        ).get("Item", {})
        address = item.get("email", {}).get("S")
        return str(address) if address else None

    def set_email(self, user_id: str, email: str) -> None:
        """Record a user's address, creating the user's item if needed."""
        if "@" not in email:
            raise ValueError(f"not an email address: {email!r}")
        self._db.update_item(
            TableName=self.table_name,
            Key={"user_id": {"S": user_id}},
            UpdateExpression="SET email = :email",
            ExpressionAttributeValues={":email": {"S": email}},
        )
