"""Everything that changes the world, behind one executor (guard, confirm, audit, one at a time)."""
