"""Tests of the live stream: the hub alone, and the WebSocket through a real server."""
