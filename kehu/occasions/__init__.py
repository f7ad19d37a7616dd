"""Solar terms, public holidays, birthdays, anniversaries, care and product life-cycle
reminders (DOMAIN §6)."""
