/* ctrd-util.c: being written */
#include "config.h"
#include "ctrd-util.h"
