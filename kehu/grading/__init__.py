"""Intent, value and referral-ability grades; key customers (DOMAIN §5)."""
