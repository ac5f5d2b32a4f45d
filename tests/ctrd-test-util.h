/* shared helpers for tests */
#pragma once
#include <glib.h>
