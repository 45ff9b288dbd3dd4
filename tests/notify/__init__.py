"""Tests of the outbound channels (issue 4, item 3)."""
