"""Where notifications go: one small class per kind of channel, built from settings.

Every channel turns a :class:`Message` into one delivery and raises
:class:`DeliveryError` when it fails; retries, rate limits and logging are the
dispatcher's (:mod:`fink_like.notify.dispatcher`), written once for every channel.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from fink_like.errors import ConfigError, FinkLikeError


class DeliveryError(FinkLikeError):
    """A notification could not be delivered (the message says to whom and why)."""


@dataclass(frozen=True)
class Message:
    """One notification: a subject line, a text body, and the alerts it is about."""

    filter: str
    version: int
    subject: str
    text: str
    alerts: list = field(default_factory=list)

    def payload(self) -> dict:
        """Slack-compatible JSON (``text``), with the alerts for programs that read it."""
        return {"text": self.text, "fink_like": {"filter": self.filter, "version": self.version,
                                                 "alerts": self.alerts}}


class Channel(ABC):
    """A notification channel.

    Contract: :meth:`send` delivers one message or raises :class:`DeliveryError`; it is
    called from one dispatcher thread per channel, never concurrently, and must not wait
    longer than the channel's ``timeout_seconds``. No credential is ever logged.
    """

    def __init__(self, name: str, conf):
        self.name, self.conf = name, conf

    @abstractmethod
    def send(self, message: Message) -> None:
        """Deliver ``message`` once."""

    def close(self) -> None:
        """Release connections (nothing by default)."""


class WebhookChannel(Channel):
    """POSTs the Slack-compatible JSON to ``url`` (a 2xx answer is a delivery)."""

    def send(self, message: Message) -> None:
        import httpx

        if self.conf.url is None:
            raise DeliveryError(f"channel {self.name}: no url configured")
        try:
            answer = httpx.post(self.conf.url.get_secret_value(), json=message.payload(),
                                timeout=self.conf.timeout_seconds)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"channel {self.name}: webhook unreachable: {type(exc).__name__}") from exc
        if answer.status_code // 100 != 2:
            raise DeliveryError(f"channel {self.name}: webhook answered HTTP {answer.status_code}")


class SmtpChannel(Channel):
    """Sends an e-mail through ``host:port`` (optional STARTTLS and login)."""

    def send(self, message: Message) -> None:
        import smtplib
        from email.message import EmailMessage

        conf = self.conf
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = conf.sender, ", ".join(conf.recipients), message.subject
        mail.set_content(message.text)
        try:
            with smtplib.SMTP(conf.host, conf.port, timeout=conf.timeout_seconds) as smtp:
                if conf.starttls:
                    smtp.starttls()
                if conf.username:
                    smtp.login(conf.username, conf.password.get_secret_value() if conf.password else "")
                smtp.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"channel {self.name}: SMTP {conf.host}:{conf.port} failed: "
                                f"{type(exc).__name__}: {exc}") from exc


class KafkaChannel(Channel):
    """Produces the JSON payload to ``topic`` (key: the filter name), waiting for the ack."""

    def __init__(self, name: str, conf, kafka_conf: dict):
        super().__init__(name, conf)
        self.kafka_conf = kafka_conf

    def send(self, message: Message) -> None:
        from fink_like.errors import KafkaError
        from fink_like.kafka.produce import Delivery, confirm, producer_for, send

        report = Delivery()
        producer = producer_for(self.kafka_conf)
        send(producer, self.conf.topic, json.dumps(message.payload()).encode(), key=message.filter.encode(),
             on_delivery=report)
        try:
            confirm(producer, report, self.conf.timeout_seconds, self.kafka_conf)
        except KafkaError as exc:
            raise DeliveryError(f"channel {self.name}: topic {self.conf.topic}: {exc}") from exc


def open_channel(name: str, settings, bootstrap: str | None = None) -> Channel:
    """The channel ``name`` of ``settings.notifications.channels`` (``bootstrap``: Kafka servers)."""
    channels = settings.notifications.channels
    if name not in channels:
        known = ", ".join(sorted(channels)) or "none configured"
        raise ConfigError(f"unknown notification channel {name!r} (notifications.channels: {known})")
    conf = channels[name]
    if conf.kind == "webhook":
        return WebhookChannel(name, conf)
    if conf.kind == "smtp":
        if not conf.recipients:
            raise ConfigError(f"notifications.channels.{name}: an smtp channel needs recipients")
        return SmtpChannel(name, conf)
    if not conf.topic:
        raise ConfigError(f"notifications.channels.{name}: a kafka channel needs a topic")
    from fink_like.kafka.conf import client_conf

    return KafkaChannel(name, conf, client_conf(settings.kafka, bootstrap))
