/* ctrd-storage.c: being written */
#include "config.h"
#include "ctrd-storage.h"
