"""Webhook deliveries: the WAHA envelope, HMAC signing, retries, the delivery log."""
