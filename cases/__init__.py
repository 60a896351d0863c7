"""GridPatrol cases package."""
