"""Simulation of data sets with every variance component, and power for a planned run (one design type,
`SimDesign`)."""
