#include "cresolv.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Points the resolver at one server. An IPv4 server goes into nsaddr_list, the classic
   interface; an IPv6 one into the extension glibc reads when an nsaddr_list entry has
   family 0. Clearing the extension's count makes glibc rebuild its copy from these. */
static int use_server(res_state state, struct postroom_dns_server server, char *reason, int reason_size) {
    /* Only the first slot is used from here on: free the other servers' IPv6 addresses now,
       since res_nclose frees only the slots below nscount. */
    for (int slot = 1; slot < MAXNS; slot++) {
        free(state->_u._ext.nsaddrs[slot]);
        state->_u._ext.nsaddrs[slot] = NULL;
    }
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, server.address, &v4) == 1) {
        memset(&state->nsaddr_list[0], 0, sizeof state->nsaddr_list[0]);
        state->nsaddr_list[0].sin_family = AF_INET;
        state->nsaddr_list[0].sin_addr = v4;
        state->nsaddr_list[0].sin_port = htons(server.port);
        state->nscount = 1;
        state->_u._ext.nscount = 0;
        return 0;
    }
    if (inet_pton(AF_INET6, server.address, &v6) == 1) {
        struct sockaddr_in6 *address = state->_u._ext.nsaddrs[0];
        if (address == NULL) {
            /* res_nclose frees it with the rest of the extension. */
            address = malloc(sizeof *address);
            if (address == NULL) {
                snprintf(reason, reason_size, "out of memory");
                return -1;
            }
            state->_u._ext.nsaddrs[0] = address;
        }
        memset(address, 0, sizeof *address);
        address->sin6_family = AF_INET6;
        address->sin6_addr = v6;
        address->sin6_port = htons(server.port);
        memset(&state->nsaddr_list[0], 0, sizeof state->nsaddr_list[0]);
        state->nscount = 1;
        state->_u._ext.nscount = 0;
        return 0;
    }
    snprintf(reason, reason_size, "\"%s\" is not an IP address", server.address);
    return -1;
}

static int failure(res_state state, char *reason, int reason_size) {
    switch (state->res_h_errno) {
    case HOST_NOT_FOUND:
    case NO_DATA:
        snprintf(reason, reason_size, "no TXT record");
        return POSTROOM_DNS_NO_RECORD;
    case TRY_AGAIN:
        snprintf(reason, reason_size, "no answer in time, or the server failed (SERVFAIL)");
        return POSTROOM_DNS_UNAVAILABLE;
    case NO_RECOVERY:
        snprintf(reason, reason_size, "the server refused the query or could not answer it");
        return POSTROOM_DNS_UNAVAILABLE;
    default:
        snprintf(reason, reason_size, "the lookup failed (resolver error %d)", state->res_h_errno);
        return POSTROOM_DNS_UNAVAILABLE;
    }
}

/* Copies the TXT records of a parsed answer into `out`. */
static int collect(ns_msg *message, unsigned char *out, int out_size, int *out_length, char *reason,
                   int reason_size) {
    int written = 0;
    int found = 0;
    int count = ns_msg_count(*message, ns_s_an);
    for (int index = 0; index < count; index++) {
        ns_rr record;
        if (ns_parserr(message, ns_s_an, index, &record) != 0) {
            snprintf(reason, reason_size, "the answer could not be parsed");
            return POSTROOM_DNS_UNAVAILABLE;
        }
        /* A CNAME chain comes with the answer; only the TXT records count. */
        if (ns_rr_type(record) != ns_t_txt || ns_rr_class(record) != ns_c_in) continue;
        const unsigned char *data = ns_rr_rdata(record);
        int length = ns_rr_rdlen(record);
        if (out_size - written < 4 + length) {
            snprintf(reason, reason_size, "the TXT records are too long");
            return POSTROOM_DNS_UNAVAILABLE;
        }
        unsigned char *header = out + written;
        int text = 0;
        for (int position = 0; position < length;) {
            int piece = data[position];
            if (piece > length - position - 1) {
                snprintf(reason, reason_size, "a TXT record's strings overrun it");
                return POSTROOM_DNS_UNAVAILABLE;
            }
            memcpy(header + 4 + text, data + position + 1, piece);
            text += piece;
            position += 1 + piece;
        }
        header[0] = (unsigned char)(text >> 24);
        header[1] = (unsigned char)(text >> 16);
        header[2] = (unsigned char)(text >> 8);
        header[3] = (unsigned char)text;
        written += 4 + text;
        found++;
    }
    *out_length = written;
    if (found == 0) {
        snprintf(reason, reason_size, "no TXT record");
        return POSTROOM_DNS_NO_RECORD;
    }
    return POSTROOM_DNS_FOUND;
}

int postroom_dns_txt(const char *name, struct postroom_dns_server server, int timeout_seconds,
                     unsigned char *out, int out_size, int *out_length, char *reason, int reason_size) {
    struct __res_state state;
    memset(&state, 0, sizeof state);
    *out_length = 0;
    if (reason_size > 0) reason[0] = '\0';
    if (res_ninit(&state) != 0) {
        snprintf(reason, reason_size, "the resolver could not be initialised (check /etc/resolv.conf)");
        res_nclose(&state);
        return POSTROOM_DNS_UNAVAILABLE;
    }
    if (server.address != NULL && use_server(&state, server, reason, reason_size) != 0) {
        res_nclose(&state);
        return POSTROOM_DNS_UNAVAILABLE;
    }
    /* glibc waits retrans << attempt seconds on each attempt. */
    int seconds = timeout_seconds < 1 ? 1 : timeout_seconds;
    if (seconds >= 3) {
        state.retry = 2;
        state.retrans = seconds / 3;
    } else {
        state.retry = 1;
        state.retrans = seconds;
    }
    /* Only the name asked for: no search list, no default domain. */
    state.options &= ~(RES_DEFNAMES | RES_DNSRCH);

    static const int answer_size = 65536;
    unsigned char *answer = malloc(answer_size);
    if (answer == NULL) {
        snprintf(reason, reason_size, "out of memory");
        res_nclose(&state);
        return POSTROOM_DNS_UNAVAILABLE;
    }
    int status;
    int length = res_nquery(&state, name, ns_c_in, ns_t_txt, answer, answer_size);
    if (length < 0) {
        status = failure(&state, reason, reason_size);
    } else {
        ns_msg message;
        if (length > answer_size || ns_initparse(answer, length, &message) != 0) {
            snprintf(reason, reason_size, "the answer could not be parsed");
            status = POSTROOM_DNS_UNAVAILABLE;
        } else {
            status = collect(&message, out, out_size, out_length, reason, reason_size);
        }
    }
    free(answer);
    res_nclose(&state);
    return status;
}
