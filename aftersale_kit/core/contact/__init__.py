"""After-sales contact: the ``follow_up`` action, its schedule, and the shop's contact policy.

* :mod:`.follow_up` - the action as the config describes it (kind, template, delay, repeat,
  purpose);
* :mod:`.calendar` - local wall-time arithmetic in the shop's time zone: business days, months,
  and the conversion to UTC across daylight-saving changes;
* :mod:`.schedule` - the messages a planned ``follow_up`` becomes, with their due times;
* :mod:`.policy` - the contact policy and :func:`~.policy.check`, which decides whether one
  message goes out now, later, or not at all.

Everything here is pure: no clock, no storage, no I/O. This package imports nothing at import
time (the action is imported by :mod:`aftersale_kit.core.campaign`).
"""
