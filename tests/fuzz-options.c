/* fuzz-options.c: libFuzzer target for the checks of an a{sv} options
 * argument: the input is taken as a serialised a{sv} exactly as it could come
 * off the bus (GVariant's own checks for untrusted data, then
 * ctrd_validate_options against the key tables of CreateContainer,
 * ImportImage and Exec), and what passes is read the way the handlers read
 * it (string arrays, env, signals, labels).
 *
 * The tables mirror the static ones of ctrd-manager.c and ctrd-container.c;
 * what the handlers then build from the options (build_container_config) is
 * static in ctrd-manager.c and cannot be reached from here. */
#include "config.h"

#include <string.h>

#include "ctrd-fuzz.h"
#include "ctrd-options.h"
#include "ctrd-util.h"

static const CtrdOptionSpec create_options[] = {
  { "Entrypoint", "as" }, { "Env", "as" },       { "WorkingDir", "s" },  { "Hostname", "s" },
  { "Labels", "a{ss}" },  { "StopSignal", "s" }, { "StopTimeout", "u" },
};
static const CtrdOptionSpec import_options[] = {
  { "Format", "s" },
};
static const CtrdOptionSpec exec_options[] = {
  { "Env", "as" },
  { "WorkingDir", "s" },
  { "User", "s" },
  { "Tty", "b" },
};

static const struct
{
  const CtrdOptionSpec *specs;
  guint n_specs;
} tables[] = {
  { create_options, G_N_ELEMENTS (create_options) },
  { import_options, G_N_ELEMENTS (import_options) },
  { exec_options, G_N_ELEMENTS (exec_options) },
};

/* What passed validation must be readable with the declared types. */
static void
read_like_handlers (GVariant *options, const CtrdOptionSpec *specs, guint n_specs)
{
  for (guint i = 0; i < n_specs; i++)
    {
      g_autoptr (GVariant) value =
          g_variant_lookup_value (options, specs[i].key, G_VARIANT_TYPE (specs[i].type));
      g_autoptr (GError) error = NULL;

      if (value == NULL)
        continue;
      if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
        {
          g_autofree const char **strv = g_variant_get_strv (value, NULL);
          if (g_str_equal (specs[i].key, "Env"))
            (void) ctrd_validate_env (strv, &error);
          else
            (void) ctrd_validate_string_array (strv, CTRD_MAX_ARGV_ELEMENTS, specs[i].key, &error);
        }
      else if (g_str_equal (specs[i].key, "StopSignal"))
        (void) ctrd_parse_signal (g_variant_get_string (value, NULL), &error);
      else if (g_str_equal (specs[i].key, "Labels"))
        {
          GVariantIter iter;
          const char *key, *label;

          g_variant_iter_init (&iter, value);
          while (g_variant_iter_next (&iter, "{&s&s}", &key, &label))
            g_assert_nonnull (key);
        }
    }
}

int
ctrd_fuzz_options (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GVariant) options = NULL;
  g_autoptr (GError) error = NULL;
  guint which;

  if (size < 1)
    return 0;
  which = data[0] % G_N_ELEMENTS (tables);
  bytes = g_bytes_new (data + 1, size - 1);
  /* trusted = FALSE: GVariant checks the serialisation as it reads. */
  options = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARDICT, bytes, FALSE));
  if (ctrd_validate_options (options, tables[which].specs, tables[which].n_specs, "Fuzz", &error))
    {
      g_assert_no_error (error);
      g_assert_cmpuint (g_variant_get_size (options), <=, CTRD_MAX_OPTIONS_BYTES);
      read_like_handlers (options, tables[which].specs, tables[which].n_specs);
    }
  else
    {
      g_assert_nonnull (error);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }
  return 0;
}

CTRD_FUZZ_ENTRY (ctrd_fuzz_options)
