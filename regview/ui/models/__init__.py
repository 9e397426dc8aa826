"""Qt item models and their proxies (habits 8 and 9): no network in here."""
