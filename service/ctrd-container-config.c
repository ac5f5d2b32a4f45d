/* ctrd-container-config.c: being written */
#include "config.h"
#include "ctrd-container-config.h"
