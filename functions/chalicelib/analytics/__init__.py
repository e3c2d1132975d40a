"""Numerical analytics (numpy/scipy): customer-base models. Imported only where used."""
