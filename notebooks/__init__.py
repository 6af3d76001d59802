"""The error-analysis notebook, shipped as package data so an installed diplostance can run it."""
