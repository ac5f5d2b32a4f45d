/* ctrd-db.c: being written */
#include "config.h"
#include "ctrd-db.h"
