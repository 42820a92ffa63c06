"""The statistics the plugin registers (rates, paired tests, the trade-off models, the verdict, agreement,
fidelity) and the helpers they share (the tidy table's design, options, intervals, the fit memo)."""
