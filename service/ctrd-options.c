/* ctrd-options.c: the check of an a{sv} options argument. */
#include "config.h"

#include "ctrd-error.h"
#include "ctrd-options.h"

/* Checks every key of an a{sv} against @specs: an unknown key or a value of
 * another type is an error naming the key (g_variant_lookup would silently
 * skip a wrong type). */
gboolean
ctrd_validate_options (GVariant *options, const CtrdOptionSpec *specs, guint n_specs, const char *what,
                  GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (g_variant_get_size (options) > CTRD_MAX_OPTIONS_BYTES)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_LIMIT_EXCEEDED,
                   "%s: the options are larger than %d bytes", what, CTRD_MAX_OPTIONS_BYTES);
      return FALSE;
    }

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      const CtrdOptionSpec *spec = NULL;
      for (guint i = 0; i < n_specs && spec == NULL; i++)
        if (g_str_equal (specs[i].key, key))
          spec = &specs[i];
      if (spec == NULL)
        {
          g_autofree char *printable = g_strescape (key, NULL);
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT, "%s: unknown option \"%.64s\"",
                       what, printable);
          g_variant_unref (value);
          return FALSE;
        }
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE (spec->type)))
        {
          g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                       "%s: option %s must be of type '%s', not '%s'", what, key, spec->type,
                       g_variant_get_type_string (value));
          g_variant_unref (value);
          return FALSE;
        }
    }
  return TRUE;
}

