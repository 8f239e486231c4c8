"""A third platform, defined only in the tests: "kasse", a small shop system that signs its
webhooks with HMAC-SHA256 (hex) and keeps its coupons and page content in memory. It proves
that a platform is added by declaring a spec and an adapter, with no change to the core, the
config loader or the service."""
