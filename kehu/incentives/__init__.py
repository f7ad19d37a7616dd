"""Incentive schemes, monthly statements, the penalty pool and the simulator (DOMAIN §8)."""
