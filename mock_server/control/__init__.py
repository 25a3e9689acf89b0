"""The control API (/__admin/) and what it governs: journal, fault rules, rate limits."""
