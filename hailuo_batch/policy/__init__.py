"""Pure policy, decided on a manual clock in tests: retry, polling, limits, budget."""
