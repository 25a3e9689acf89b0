"""What every request of the emulated API goes through: parsing, hooks, the JSON error path."""
