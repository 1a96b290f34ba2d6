"""render stage of Klantreis."""
