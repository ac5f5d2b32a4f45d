/* Unit tests for ctrd-cgroup: limit ranges and the figures of v1 and v2
 * cgroups, read from the fixture trees in tests/cgroup-fixtures. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "ctrd-cgroup.h"
#include "ctrd-error.h"

static char *
fixture_root (const char *name)
{
  return g_build_filename (CTRD_CGROUP_FIXTURES, name, NULL);
}

static void
test_v2_stats (void)
{
  g_autofree char *root = fixture_root ("v2");
  g_autoptr (GError) error = NULL;
  CtrdCgroupStats stats;

  g_assert_true (ctrd_cgroup_root_is_unified (root));
  g_assert_true (ctrd_cgroup_read_stats (root, "/containersd/abc", &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.cpu_time_ns, ==, G_GUINT64_CONSTANT (2500000000));
  g_assert_cmpuint (stats.memory_bytes, ==, 1048576);
  g_assert_cmpuint (stats.memory_limit, ==, 33554432);
  g_assert_cmpuint (stats.pids, ==, 7);
  g_assert_cmpuint (stats.block_read_bytes, ==, 4196);
  g_assert_cmpuint (stats.block_write_bytes, ==, 8192);

  /* "max" is no limit; a missing io.stat is no I/O. */
  g_assert_true (ctrd_cgroup_read_stats (root, "/containersd/unlimited", &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.memory_limit, ==, 0);
  g_assert_cmpuint (stats.cpu_time_ns, ==, 10000);
  g_assert_cmpuint (stats.block_read_bytes + stats.block_write_bytes, ==, 0);
}

static void
test_v1_stats (void)
{
  g_autofree char *root = fixture_root ("v1");
  g_autoptr (GError) error = NULL;
  CtrdCgroupStats stats;

  g_assert_false (ctrd_cgroup_root_is_unified (root));
  g_assert_true (ctrd_cgroup_read_stats (root, "/containersd/abc", &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.cpu_time_ns, ==, 123456789);
  g_assert_cmpuint (stats.memory_bytes, ==, 2097152);
  g_assert_cmpuint (stats.memory_limit, ==, 0); /* the page-aligned "unlimited" */
  g_assert_cmpuint (stats.pids, ==, 3);
  g_assert_cmpuint (stats.block_read_bytes, ==, 512);
  g_assert_cmpuint (stats.block_write_bytes, ==, 1024);
}

static void
test_missing_cgroup (void)
{
  const char *roots[] = { "v1", "v2" };

  for (gsize i = 0; i < G_N_ELEMENTS (roots); i++)
    {
      g_autofree char *root = fixture_root (roots[i]);
      g_autoptr (GError) error = NULL;
      CtrdCgroupStats stats = { 0 };

      g_assert_false (ctrd_cgroup_read_stats (root, "/containersd/gone", &stats, &error));
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND);
      g_assert_nonnull (strstr (error->message, "gone"));
    }
}

typedef struct
{
  CtrdLimits limits;
  const char *named; /* NULL = valid; else a word the message must hold */
} LimitCase;

static void
test_limits_validate (void)
{
  const LimitCase cases[] = {
    { { 0, 0, 0 }, NULL },
    { { CTRD_MIN_MEMORY_LIMIT, 0.5, 20 }, NULL },
    { { CTRD_MAX_MEMORY_LIMIT, CTRD_MAX_CPU_QUOTA, CTRD_MAX_PIDS_LIMIT }, NULL },
    { { 4096, 0, 0 }, "MemoryLimit" },
    { { G_MAXUINT64, 0, 0 }, "MemoryLimit" },
    { { 0, -0.5, 0 }, "CpuQuota" },
    { { 0, 0.001, 0 }, "CpuQuota" },
    { { 0, 1e9, 0 }, "CpuQuota" },
    { { 0, NAN, 0 }, "CpuQuota" },
    { { 0, INFINITY, 0 }, "CpuQuota" },
    { { 0, 0, -1 }, "PidsLimit" },
    { { 0, 0, G_MAXINT64 }, "PidsLimit" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = ctrd_limits_validate (&cases[i].limits, "Container c", &error);

      g_test_message ("limits case %" G_GSIZE_FORMAT, i);
      if (cases[i].named == NULL)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          continue;
        }
      g_assert_false (ok);
      g_assert_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, cases[i].named));
      g_assert_true (g_str_has_prefix (error->message, "Container c: "));
    }
}

static void
test_cpu_quota_usec (void)
{
  g_assert_cmpint (ctrd_limits_cpu_quota_usec (0), ==, 0);
  g_assert_cmpint (ctrd_limits_cpu_quota_usec (0.5), ==, 50000);
  g_assert_cmpint (ctrd_limits_cpu_quota_usec (2), ==, 200000);
  g_assert_cmpint (ctrd_limits_cpu_quota_usec (0.01), ==, 1000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cgroup/v2-stats", test_v2_stats);
  g_test_add_func ("/cgroup/v1-stats", test_v1_stats);
  g_test_add_func ("/cgroup/missing", test_missing_cgroup);
  g_test_add_func ("/cgroup/limits-validate", test_limits_validate);
  g_test_add_func ("/cgroup/cpu-quota-usec", test_cpu_quota_usec);
  return g_test_run ();
}
