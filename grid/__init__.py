"""GridPatrol grid package."""
