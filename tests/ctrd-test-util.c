#include "ctrd-test-util.h"
