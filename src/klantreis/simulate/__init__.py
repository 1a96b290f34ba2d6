"""simulate stage of Klantreis."""
