"""What consumption means: base load, standby cost, unusual days (pure rules and loaders over a store)."""
