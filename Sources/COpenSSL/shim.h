#ifndef POSTROOM_COPENSSL_SHIM_H
#define POSTROOM_COPENSSL_SHIM_H

/* OpenSSL's libcrypto for digests and HMAC in the Foundation-free core: swift-crypto brings
   Foundation with it, and `route` starts once per incoming message. */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#endif
