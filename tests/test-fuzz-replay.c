/* test-fuzz-replay.c: every input kept under tests/fuzz-corpus/NAME/ (seeds
 * and the inputs of crashes found by fuzzing) is run through fuzz target NAME
 * (tests/fuzz-NAME.c, built here without libFuzzer). A target checks its
 * module's contract with assertions, so a crash or a broken contract fails
 * this test in an ordinary build, and under --enable-sanitizers any memory
 * error does too. */
#include "config.h"

#include <unistd.h>

#include "ctrd-fuzz.h"

typedef int (*FuzzFunc) (const uint8_t *data, size_t size);

typedef struct
{
  const char *name;
  FuzzFunc func;
  gboolean needs_root;
} Target;

static const Target targets[] = {
  { "names", ctrd_fuzz_names, FALSE },
  { "options", ctrd_fuzz_options, FALSE },
  { "import", ctrd_fuzz_import, TRUE },
};

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

static void
replay (gconstpointer user_data)
{
  const Target *target = user_data;
  g_autofree char *dir_path = g_build_filename (CTRD_FUZZ_CORPUS, target->name, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *entry;

  if (target->needs_root && geteuid () != 0)
    {
      g_test_skip ("needs root (a bare OSTree repo keeps file owners)");
      return;
    }
  dir = g_dir_open (dir_path, 0, &error);
  g_assert_no_error (error);
  while ((entry = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (entry));
  g_ptr_array_sort (names, compare_names);
  /* An empty corpus would make this test pass on nothing. */
  g_assert_cmpuint (names->len, >, 0);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir_path, names->pdata[i], NULL);
      g_autofree char *contents = NULL;
      gsize length;

      g_file_get_contents (path, &contents, &length, &error);
      g_assert_no_error (error);
      g_test_message ("%s: %s (%" G_GSIZE_FORMAT " bytes)", target->name, (char *) names->pdata[i],
                      length);
      g_assert_cmpint (target->func ((const uint8_t *) contents, length), ==, 0);
    }
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      g_autofree char *path = g_strdup_printf ("/fuzz-replay/%s", targets[i].name);
      g_test_add_data_func (path, &targets[i], replay);
    }
  status = g_test_run ();
  ctrd_fuzz_import_cleanup ();
  return status;
}
