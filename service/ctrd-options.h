/* ctrd-options.h: the check of an a{sv} options argument, shared by every
 * bus object whose methods take one (the one D-Bus-shaped helper, so it lives
 * beside the bus objects, not in core). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CTRD_MAX_OPTIONS_BYTES (64 * 1024)

typedef struct
{
  const char *key;
  const char *type; /* a GVariant type string */
} CtrdOptionSpec;

/* Checks every key of an a{sv} against @specs: an unknown key or a value of
 * another type is INVALID_ARGUMENT naming the key (g_variant_lookup would
 * silently skip a wrong type); more than CTRD_MAX_OPTIONS_BYTES is
 * LIMIT_EXCEEDED. @what names the call in messages. */
gboolean ctrd_validate_options (GVariant *options, const CtrdOptionSpec *specs, guint n_specs,
                                const char *what, GError **error);

G_END_DECLS
