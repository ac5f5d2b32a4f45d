/* ctrd-runtime.c: being written */
#include "config.h"
#include "ctrd-runtime.h"
