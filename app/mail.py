"""Real mail: SMTP when configured, otherwise .eml files in instance/outbox/ that tests read.

The message is rendered in the request; delivery is a job (app/jobs.py): in-process or on RQ."""
import email
import email.policy
import smtplib
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import Flask, current_app, render_template

from app import jobs


def register(app: Flask) -> None:
    app.extensions["oncollab_mail"] = True


def send_mail(to: str, subject: str, template: str, **context) -> EmailMessage:
    """Render ``template`` (a text template) and deliver it; links inside come from PUBLIC_URL."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="oncollab.local")
    message.set_content(render_template(template, site_name=config["SITE_NAME"], **context))
    jobs.enqueue(deliver, bytes(message))
    return message


def deliver(raw: bytes) -> None:
    """The job: hand the rendered message to SMTP, or write it to the .eml outbox."""
    config = current_app.config
    if config.get("MAIL_SERVER"):
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=15) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    else:
        outbox = Path(config["OUTBOX_DIR"])
        outbox.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        (outbox / name).write_bytes(raw)


def public_url(path: str) -> str:
    """An absolute link for e-mails, built from configuration and never from the Host header."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + path
