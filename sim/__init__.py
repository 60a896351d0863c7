"""GridPatrol sim package."""
