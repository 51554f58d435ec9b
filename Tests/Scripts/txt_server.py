#!/usr/bin/python3
"""A DNS server for TXT records only, on 127.0.0.1:53 of the network namespace it runs in
(opendkim_verify.sh's), with dnspython. Other names get NXDOMAIN.

usage: txt_server.py NAME=TXT...   Prints "ready" once listening.
"""
import socket
import sys

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


def main():
    records = {}
    for spec in sys.argv[1:]:
        name, _, value = spec.partition("=")
        # TXT strings hold 255 bytes at most.
        strings = [value[i:i + 250] for i in range(0, len(value), 250)]
        records[name.rstrip(".").lower() + "."] = " ".join('"%s"' % s for s in strings)
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 53))
    print("ready", flush=True)
    while True:
        data, peer = server.recvfrom(4096)
        query = dns.message.from_wire(data)
        reply = dns.message.make_response(query)
        question = query.question[0]
        text = records.get(question.name.to_text().lower())
        if text is not None and question.rdtype == dns.rdatatype.TXT:
            reply.answer.append(dns.rrset.from_text(question.name, 60, "IN", "TXT", text))
        else:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        server.sendto(reply.to_wire(), peer)


if __name__ == "__main__":
    main()
