#!/usr/bin/python3
"""A scripted SMTP server for the deliver tests.

    smtp_server.py MODE DIR [PORT]      MODE: accept | tempfail | permfail | byrecipient | drop | slow
                                              | secure | plain | small | idle | utf8 | limit
                                              | implicit | confused | cleartext | seven | picky | cap

"secure" offers STARTTLS with DIR/cert.pem and DIR/key.pem (made by the caller), requires it,
and requires AUTH as postroom / s3cret. Every mode but "plain" offers PIPELINING (aiosmtpd
reads pipelined commands but does not announce it); "small" limits messages to 1,000 bytes
(SIZE 1000); "idle" closes a connection idle for a second; "utf8" offers SMTPUTF8; "limit"
takes two messages a connection and answers 421 to the next MAIL; "implicit" speaks TLS from
the first byte (SMTPS, port 465 style) with DIR/cert.pem; "confused" answers DATA with 250
instead of 354; "cleartext" offers AUTH with no STARTTLS and writes what an AUTH
command brought to DIR/auth (what an eavesdropper would see); "seven" does not announce
8BITMIME; "picky" answers 550 without naming the address to a RCPT whose local part
starts with "reject" ("byrecipient" and "plain" answer 451 to one starting with "defer" and 550
to one starting with "reject"); "cap" takes two messages a connection, then answers 421 to MAIL and
closes the connection at once (the rest of a pipelined group is never answered).

Listens on PORT when given (a relay coming back where deliver expects it), else on a port the
OS picks, and prints "PORT <n>" once listening. Each accepted message is saved as DIR/<n>.eml
with its envelope in DIR/<n>.envelope; DIR/connections counts connections. Runs until killed."""
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP

mode, directory = sys.argv[1], sys.argv[2]
port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
os.makedirs(directory, exist_ok=True)
state = {"messages": 0, "connections": 0}


class Handler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if mode != "plain":
            responses.insert(1, "250-PIPELINING")
        if mode == "seven":
            responses = [line for line in responses if line != "250-8BITMIME"]
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        session.transactions = getattr(session, "transactions", 0) + 1
        if mode == "limit" and session.transactions > 2:
            return "421 4.7.0 Too many messages for this connection"
        # Pipelined: the rest of the group was already waiting when MAIL arrived.
        envelope.pipelined = len(server._reader._buffer) > 0
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if mode == "tempfail":
            return "451 4.3.0 Mailbox temporarily unavailable, try later"
        if mode == "permfail":
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if mode in ("byrecipient", "plain") and address.startswith("defer"):
            return "451 4.3.0 Mailbox temporarily unavailable, try later"
        if mode in ("byrecipient", "plain") and address.startswith("reject"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if mode == "picky" and address.startswith("reject"):
            return "550 5.1.1 User unknown"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if mode == "drop":
            server.transport.close()
            return "421 4.4.2 connection dropped"
        if mode == "slow":
            await asyncio.sleep(30)
        state["messages"] += 1
        number = state["messages"]
        with open(os.path.join(directory, f"{number}.eml"), "wb") as handle:
            handle.write(envelope.original_content)
        with open(os.path.join(directory, f"{number}.envelope"), "w") as handle:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos, "tls": session.ssl is not None,
                       "login": state.get("login", "") if session.authenticated else "",
                       "options": envelope.mail_options, "pipelined": getattr(envelope, "pipelined", False)}, handle)
        return f"250 2.0.0 Ok: queued as Q{number}"


class Capped(SMTP):
    async def smtp_MAIL(self, arg):
        self.session.capped = getattr(self.session, "capped", 0) + 1
        if self.session.capped > 2:
            await self.push("421 4.7.0 Too many messages for this connection")
            self.transport.close()
            return
        await super().smtp_MAIL(arg)


class Confused(SMTP):
    async def smtp_DATA(self, arg):
        await self.push("250 2.0.0 no data needed")


def record_login(mechanism, login, password):
    with open(os.path.join(directory, "auth"), "ab") as handle:
        handle.write(login + b"\0" + password + b"\n")
    return login == b"postroom" and password == b"s3cret"


def check_login(mechanism, login, password):
    # aiosmtpd 1.4's newer "authenticator" hook never answers a failed login; this one does (535).
    state["login"] = login.decode()
    return login == b"postroom" and password == b"s3cret"


def factory():
    state["connections"] += 1
    with open(os.path.join(directory, "connections"), "w") as handle:
        handle.write(str(state["connections"]))
    if mode == "secure":
        return SMTP(Handler(), hostname="test.example", decode_data=False, tls_context=server_context(), require_starttls=True,
                    auth_required=True, auth_require_tls=True, auth_callback=check_login)
    if mode == "cleartext":
        return SMTP(Handler(), hostname="test.example", decode_data=False, auth_required=True, auth_require_tls=False,
                    auth_callback=record_login)
    server_class = {"confused": Confused, "cap": Capped}.get(mode, SMTP)
    return server_class(Handler(), hostname="test.example", decode_data=False,
                data_size_limit=1000 if mode == "small" else 33554432, timeout=1 if mode == "idle" else 300,
                enable_SMTPUTF8=mode == "utf8")


def server_context():
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem"))
    return context


async def main():
    implicit = server_context() if mode == "implicit" else None
    server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", port, ssl=implicit)
    print("PORT", server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
