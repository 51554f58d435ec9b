#ifndef POSTROOM_CMAGIC_SHIM_H
#define POSTROOM_CMAGIC_SHIM_H
#include <magic.h>
#endif
