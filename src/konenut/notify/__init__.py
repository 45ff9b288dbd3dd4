"""Outbound alert channels: Web Push (VAPID), Apprise URLs and one-segment SMS text (issue 4)."""
