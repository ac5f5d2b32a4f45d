/* ctrd-spec.c: being written */
#include "config.h"
#include "ctrd-spec.h"
