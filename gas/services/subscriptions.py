"""The subscription state machine: Free ⇄ Premium, driven by the web's subscribe and cancel
and by Stripe's webhook events (docs/architecture.md, "Plans").

The plan is recorded first and the follow-up message sent only by the call that made the
change (``UserRepository.change_plan`` is conditional), so a repeated request or event
changes nothing more: Premium sends ``user.upgraded`` (the restorer brings archived results
back), Free sends ``user.downgraded`` (the archiver archives them after the retention).
"""

from __future__ import annotations

import logging
from typing import Any

from gas.core import billing
from gas.core.publisher import request_downgrade_archive, request_restore
from gas.core.settings import Settings
from gas.core.stack import StackLocator
from gas.core.users import UserRepository

log = logging.getLogger(__name__)


class Subscriptions:
    """Subscribe, cancel and follow Stripe's subscription events for GAS users."""

    def __init__(
        self, settings: Settings, users: UserRepository, sns: Any, sqs: Any, locator: StackLocator
    ) -> None:
        self.settings = settings
        self.users = users
        self._sns = sns
        self._sqs = sqs
        self._locator = locator

    def subscribe(self, user_id: str, email: str, card_token: str) -> str:
        """Charge the card for Premium and make the user Premium; the subscription's id.

        Raises billing.CardDeclined (nothing charged), billing.BillingError (Stripe not
        configured) or whatever Stripe raised; the plan is unchanged then.
        """
        client = billing.stripe_client(self.settings)
        customer_id = self.users.stripe_ids(user_id).customer_id
        if customer_id is None:
            customer_id = billing.create_customer(client, user_id, email, card_token)
            self.users.set_stripe_customer(user_id, customer_id)
        else:
            billing.use_card(client, customer_id, card_token)
        subscription_id = billing.create_subscription(
            client, customer_id, user_id, billing.subscribe_key(user_id, card_token)
        )
        self.users.set_stripe_subscription(user_id, subscription_id)
        log.info("user %s: subscribed (%s, %s)", user_id, customer_id, subscription_id)
        self.upgrade(user_id)
        return subscription_id

    def cancel(self, user_id: str) -> None:
        """Cancel the user's subscription at Stripe, then make them Free.

        Raises whatever Stripe raised; the user stays Premium then.
        """
        subscription_id = self.users.stripe_ids(user_id).subscription_id
        if subscription_id:
            billing.cancel_subscription(billing.stripe_client(self.settings), subscription_id)
            self.users.clear_stripe_subscription(user_id, subscription_id)
        log.info("user %s: canceled %s", user_id, subscription_id)
        self.downgrade(user_id)

    def apply_event(self, change: billing.SubscriptionEvent) -> bool:
        """Follow a subscription to the state Stripe holds now; False when the customer is
        no GAS user.

        The event may be late, out of order or replayed, so only its subscription id is
        trusted: the status and customer are re-read from Stripe (whatever Stripe raises
        then is raised, and the event should be sent again). The same event twice, or an
        old one after a newer, changes nothing more.
        """
        change = billing.as_stripe_holds_it(billing.stripe_client(self.settings), change)
        user_id = self.users.user_for_stripe_customer(change.customer_id)
        if user_id is None:
            log.info("event %s: customer %s is not a GAS user", change.event_id, change.customer_id)
            return False
        current = self.users.stripe_ids(user_id).subscription_id
        ended = change.status in billing.ENDED_STATUSES
        log.info(
            "event %s: %s %s is %s (user %s, current %s)",
            change.event_id,
            change.type,
            change.subscription_id,
            change.status,
            user_id,
            current,
        )
        if ended:
            # Only the user's current subscription ending makes them Free: a late event
            # for an old one (canceled before a re-subscribe) changes nothing.
            if current == change.subscription_id:
                self.users.clear_stripe_subscription(user_id, change.subscription_id)
                self.downgrade(user_id)
        elif change.status == "active":
            if current != change.subscription_id:
                if current and self._still_paying(current):
                    return True  # the user already pays through another subscription
                self.users.set_stripe_subscription(user_id, change.subscription_id)
            self.upgrade(user_id)
        return True

    def upgrade(self, user_id: str) -> None:
        """Premium first, then the restore request (only if this call made the change)."""
        if self.users.change_plan(user_id, "premium"):
            restore_id = request_restore(self._sns, self._locator, user_id)
            log.info("user %s: now Premium; restore %s requested", user_id, restore_id)

    def downgrade(self, user_id: str) -> None:
        """Free first, then the archive request (only if this call made the change)."""
        if self.users.change_plan(user_id, "free"):
            request_downgrade_archive(self._sqs, self._locator, user_id)
            log.info("user %s: now Free; archive of results requested", user_id)

    def _still_paying(self, subscription_id: str) -> bool:
        try:
            status = billing.subscription_status(
                billing.stripe_client(self.settings), subscription_id
            )
        except billing.BillingError:
            return False
        return status in billing.PAYING_STATUSES
