"""What energy costs: tariff bands over time, cost per band, fixed charges and the bill forecast (pure)."""
