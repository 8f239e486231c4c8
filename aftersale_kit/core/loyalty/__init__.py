"""Loyalty: bonus points and stamp cards, the pure part (see docs/loyalty.md).

The modules, each imported by its own name (this package re-exports nothing, so that the
campaign model can import :mod:`.actions` without pulling in the rest):

* :mod:`.actions` - the campaign actions ``award_points`` and ``stamp``;
* :mod:`.program` - the validated ``loyalty:`` section (earn rate, tiers, expiry, redemption,
  stamp cards) and the customer's account key;
* :mod:`.earning` - :func:`~.earning.points_for` (with its explanation) and the points a refund
  takes back (:func:`~.earning.reversal_for`);
* :mod:`.tiers` - :func:`~.tiers.tier_of`, the tier a customer's history earns;
* :mod:`.ledger` - movements and :func:`~.ledger.apply`, the journal arithmetic;
* :mod:`.movements` - the movements of orders and refunds, keyed so that redeliveries book once;
* :mod:`.schedule` - the releases and expiries due at an injected ``now``;
* :mod:`.redeem` - whether a redemption is allowed;
* :mod:`.stamps` - stamp card progression, completion and take-back.

Nothing here reads a clock, a database or the network: every time is passed in.
"""
