"""web stage of Klantreis."""
