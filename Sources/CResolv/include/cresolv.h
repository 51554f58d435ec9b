#ifndef POSTROOM_CRESOLV_H
#define POSTROOM_CRESOLV_H

/* TXT lookups through the system resolver library (libresolv), for DMARC policies.
   The resolver's own API works on a large struct with unions and macros that Swift
   cannot use comfortably, so the query and the answer's parsing live here. */

/* What a lookup found. */
enum postroom_dns_status {
    POSTROOM_DNS_FOUND = 0,       /* at least one TXT record; they are in `out` */
    POSTROOM_DNS_NO_RECORD = 1,   /* NXDOMAIN, or the name has no TXT record */
    POSTROOM_DNS_UNAVAILABLE = 2  /* timeout, SERVFAIL, REFUSED, a broken answer: `reason` says */
};

/* The server to ask instead of the ones in /etc/resolv.conf: an IPv4 or IPv6 address in
   text form and a port. */
struct postroom_dns_server {
    const char *address; /* NULL: the system's servers */
    unsigned short port;
};

/* Looks up the TXT records of `name`.

   `timeout_seconds` is the whole budget for one server (the library counts in whole seconds);
   with 3 or more the query is sent twice, so one lost datagram does not fail the lookup.
   Each record found is written to `out` as a 4-byte big-endian length and then its character
   strings concatenated (RFC 7208 3.3: a TXT record split into strings is read as one).
   `*out_length` is the number of bytes written. A record that does not fit makes the lookup
   POSTROOM_DNS_UNAVAILABLE. `reason` gets a line of text for anything but POSTROOM_DNS_FOUND. */
int postroom_dns_txt(const char *name, struct postroom_dns_server server, int timeout_seconds,
                     unsigned char *out, int out_size, int *out_length, char *reason, int reason_size);

#endif
