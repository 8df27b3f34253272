"""Offline voice coach for hip and lower back self-care routines."""

__version__ = "0.1.0"
