"""The login throttle, shared by every web process and instance through DynamoDB.

One item per email address in the users table, keyed ``throttle#<sha256 of the
address>`` (``#`` never appears in a user id, so it cannot collide with a
user; hashing bounds the key whatever is typed). It counts failed sign-ins
and records when the next attempt may be made:

- the first ``free_failures - 1`` failures in a row cost nothing;
- the ``free_failures``-th makes the next attempt wait ``first_delay_seconds``,
  and each further failure doubles the wait, up to ``max_delay_seconds``: an
  attacker gets a guess a minute at most, and the owner, who knows the
  password, waits at most ``max_delay_seconds`` (never locked out);
- a success, or ``forget_seconds`` without a failure, clears the count. The
  item carries ``expires_at`` for DynamoDB's TTL to remove; until then an
  expired item is read as absent.

Counting is atomic (an ADD), so concurrent failures are all counted; two
attempts already in flight when the wait begins may both be verified.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

THROTTLE_KEY_PREFIX = "throttle#"


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_failures: int = 5
    first_delay_seconds: int = 2
    max_delay_seconds: int = 60
    forget_seconds: int = 15 * 60

    def delay_after(self, failures: int) -> int:
        """Seconds to wait after the ``failures``-th failure in a row."""
        if failures < self.free_failures:
            return 0
        doublings = min(failures - self.free_failures, 30)
        return min(self.first_delay_seconds * 2**doublings, self.max_delay_seconds)


class LoginThrottle:
    """Asks, per email address, how long before the next sign-in attempt."""

    def __init__(
        self,
        dynamodb: Any,
        table_name: str,
        policy: ThrottlePolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = dynamodb
        self.table_name = table_name
        self.policy = policy or ThrottlePolicy()
        self._clock = clock

    def retry_after(self, email: str) -> int:
        """Seconds until the next attempt is allowed; 0 when allowed now."""
        item = self._db.get_item(
            TableName=self.table_name, Key=self._key(email), ConsistentRead=True
        ).get("Item")
        now = self._clock()
        if item is None or float(item["expires_at"]["N"]) <= now:
            return 0
        wait = float(item["next_attempt_at"]["N"]) - now
        return max(0, int(wait + 0.999))

    def failed(self, email: str) -> None:
        """Count a failure and set the wait its count calls for."""
        now = self._clock()
        expires = int(now + self.policy.forget_seconds)
        try:
            counted = self._db.update_item(
                TableName=self.table_name,
                Key=self._key(email),
                UpdateExpression="ADD failures :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(expires_at) OR expires_at > :now",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":expires": {"N": str(expires)},
                    ":now": {"N": str(int(now))},
                },
                ReturnValues="UPDATED_NEW",
            )
            failures = int(counted["Attributes"]["failures"]["N"])
        except self._db.exceptions.ConditionalCheckFailedException:
            # The last failures were long ago: start counting again.
            failures = 1
            self._db.put_item(
                TableName=self.table_name,
                Item={
                    **self._key(email),
                    "failures": {"N": "1"},
                    "expires_at": {"N": str(expires)},
                },
            )
        next_attempt = now + self.policy.delay_after(failures)
        self._db.update_item(
            TableName=self.table_name,
            Key=self._key(email),
            UpdateExpression="SET next_attempt_at = :at",
            ExpressionAttributeValues={":at": {"N": f"{next_attempt:.3f}"}},
        )

    def succeeded(self, email: str) -> None:
        self._db.delete_item(TableName=self.table_name, Key=self._key(email))

    @staticmethod
    def _key(email: str) -> dict[str, dict[str, str]]:
        digest = hashlib.sha256(email.strip().lower().encode("utf-8", "replace")).hexdigest()
        return {"user_id": {"S": THROTTLE_KEY_PREFIX + digest}}
