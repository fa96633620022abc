"""Development conveniences: the embedded Redis and the one-command local stack."""
