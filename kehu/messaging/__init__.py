"""Templates, triggers, the outbox, providers and broadcasts (DOMAIN §6)."""
