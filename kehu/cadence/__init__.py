"""Call cadences, next-due dates and each person's daily agenda (DOMAIN §6)."""
