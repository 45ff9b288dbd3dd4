"""The router with the deployment's channels: Apprise URL templates from the settings, and Web
Push (app/routing.py decides who each channel reaches)."""

from __future__ import annotations

from konenut.app import routing
from konenut.app.channels import Channel
from konenut.app.routing import PUSH
from konenut.config import NOTIFY_CHANNELS, Settings
from konenut.notify.apprise_channel import AppriseChannel
from konenut.notify.push_endpoints import PushEndpointPolicy
from konenut.notify.webpush import VapidKeys, WebPushChannel


class Router(routing.Router):
    """Outbound channels by name: Apprise URL templates from the settings, and Web Push."""

    @classmethod
    def from_settings(cls, settings: Settings, vapid_keys: VapidKeys | None) -> Router:
        channels: dict[str, Channel] = {}
        for name in NOTIFY_CHANNELS:
            url = settings.notify_url(name)
            if url is not None:
                channels[name] = AppriseChannel(name, url)
        if vapid_keys is not None:
            endpoints = PushEndpointPolicy(settings.push_allow_hosts)
            subject = settings.resolved_vapid_subject()
            channels[PUSH] = WebPushChannel(vapid_keys, subject, endpoints=endpoints)
        return cls(channels)
