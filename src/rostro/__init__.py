"""Rostro: a self-hosted, offline face-analysis service that speaks the Azure Face API."""

__version__ = "0.1.0"
