"""The Label Studio labelling config, shipped as package data."""
