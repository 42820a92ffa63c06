"""Statistics over the tidy table: rates with intervals, paired tests, mixed models of the trade-off.

Everything here reads only tidy-table rows (dicts), so it works on any run or on
results produced elsewhere. Heavy libraries (pandas, statsmodels, matplotlib) are
imported inside functions so importing the plugin stays cheap.
"""
