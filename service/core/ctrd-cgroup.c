/* ctrd-cgroup.c: resource limits and cgroup figures on cgroup v1 and v2. */
#include "config.h"

#include "ctrd-cgroup.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ctrd-error.h"

gboolean
ctrd_limits_validate (const CtrdLimits *limits, const char *what, GError **error)
{
  if (limits->memory_limit != 0 &&
      (limits->memory_limit < CTRD_MIN_MEMORY_LIMIT || limits->memory_limit > CTRD_MAX_MEMORY_LIMIT))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s: MemoryLimit %" G_GUINT64_FORMAT " is out of range: 0 (none) or %"
                   G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT " bytes",
                   what, limits->memory_limit, CTRD_MIN_MEMORY_LIMIT, CTRD_MAX_MEMORY_LIMIT);
      return FALSE;
    }
  if (!isfinite (limits->cpu_quota) ||
      (limits->cpu_quota != 0 &&
       (limits->cpu_quota < CTRD_MIN_CPU_QUOTA || limits->cpu_quota > CTRD_MAX_CPU_QUOTA)))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s: CpuQuota %g is out of range: 0 (none) or %g to %g CPUs", what,
                   limits->cpu_quota, CTRD_MIN_CPU_QUOTA, CTRD_MAX_CPU_QUOTA);
      return FALSE;
    }
  if (limits->pids_limit < 0 || limits->pids_limit > CTRD_MAX_PIDS_LIMIT)
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_INVALID_ARGUMENT,
                   "%s: PidsLimit %" G_GINT64_FORMAT " is out of range: 0 (none) or 1 to %"
                   G_GINT64_FORMAT, what, limits->pids_limit, CTRD_MAX_PIDS_LIMIT);
      return FALSE;
    }
  return TRUE;
}

gint64
ctrd_limits_cpu_quota_usec (double cpus)
{
  if (!(cpus > 0))
    return 0;
  return MAX ((gint64) (cpus * CTRD_CPU_PERIOD_USEC + 0.5), 1000);
}

char *
ctrd_cgroup_path_for_container (const char *id)
{
  return g_strconcat ("/containersd/", id, NULL);
}

gboolean
ctrd_cgroup_root_is_unified (const char *root)
{
  g_autofree char *controllers = g_build_filename (root, "cgroup.controllers", NULL);

  return g_file_test (controllers, G_FILE_TEST_EXISTS);
}

/* The file's contents; NULL and @error naming it when it cannot be read. */
static char *
read_cgroup_file (const char *dir, const char *name, GError **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) local_error = NULL;
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, &local_error))
    {
      g_set_error (error, CTRD_ERROR,
                   g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                       ? CTRD_ERROR_NOT_FOUND
                       : CTRD_ERROR_RUNTIME_ERROR,
                   "Cannot read the cgroup file %s: %s", path, local_error->message);
      return NULL;
    }
  return text;
}

/* A file holding one number ("max" reads as @max_value). */
static gboolean
read_cgroup_number (const char *dir, const char *name, guint64 max_value, guint64 *out,
                    GError **error)
{
  g_autofree char *text = read_cgroup_file (dir, name, error);
  char *end = NULL;
  guint64 value;

  if (text == NULL)
    return FALSE;
  g_strstrip (text);
  if (g_str_equal (text, "max"))
    {
      *out = max_value;
      return TRUE;
    }
  errno = 0;
  value = g_ascii_strtoull (text, &end, 10);
  if (errno != 0 || end == text || *end != '\0')
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_RUNTIME_ERROR,
                   "The cgroup file %s/%s holds no number: %s", dir, name, text);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

/* The value of the line "@key VALUE" in a flat-keyed file (cpu.stat, io). */
static gboolean
lookup_keyed (const char *text, const char *key, guint64 *out)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gsize key_len = strlen (key);

  for (char **line = lines; *line != NULL; line++)
    if (strncmp (*line, key, key_len) == 0 && ((*line)[key_len] == ' ' || (*line)[key_len] == ':'))
      {
        *out = g_ascii_strtoull (*line + key_len + 1, NULL, 10);
        return TRUE;
      }
  return FALSE;
}

/* v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N ..." per device. */
static void
sum_io_stat (const char *text, guint64 *out_read, guint64 *out_write)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  *out_read = *out_write = 0;
  for (char **line = lines; *line != NULL; line++)
    {
      g_auto (GStrv) fields = g_strsplit_set (*line, " \t", -1);

      for (char **field = fields; *field != NULL; field++)
        if (g_str_has_prefix (*field, "rbytes="))
          *out_read += g_ascii_strtoull (*field + 7, NULL, 10);
        else if (g_str_has_prefix (*field, "wbytes="))
          *out_write += g_ascii_strtoull (*field + 7, NULL, 10);
    }
}

/* v1 blkio.throttle.io_service_bytes: "MAJ:MIN Read N" ... and "Total N". */
static void
sum_blkio_service_bytes (const char *text, guint64 *out_read, guint64 *out_write)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  *out_read = *out_write = 0;
  for (char **line = lines; *line != NULL; line++)
    {
      g_auto (GStrv) fields = g_strsplit (*line, " ", -1);

      if (g_strv_length (fields) != 3)
        continue;
      if (g_str_equal (fields[1], "Read"))
        *out_read += g_ascii_strtoull (fields[2], NULL, 10);
      else if (g_str_equal (fields[1], "Write"))
        *out_write += g_ascii_strtoull (fields[2], NULL, 10);
    }
}

/* The storage I/O of the cgroup's processes from /proc/<pid>/io: what v1
 * reports when no throttle rule makes blkio count. Processes that already
 * exited are not in it. */
static void
sum_proc_io (const char *procs_text, guint64 *out_read, guint64 *out_write)
{
  g_auto (GStrv) pids = g_strsplit (procs_text, "\n", -1);
  guint n = 0;

  *out_read = *out_write = 0;
  for (char **pid = pids; *pid != NULL && n < CTRD_CGROUP_MAX_PROCS; pid++, n++)
    {
      g_autofree char *path = NULL;
      g_autofree char *text = NULL;
      guint64 value;

      if (**pid == '\0' || strspn (*pid, "0123456789") != strlen (*pid))
        continue;
      path = g_strdup_printf ("/proc/%s/io", *pid);
      if (!g_file_get_contents (path, &text, NULL, NULL))
        continue; /* it exited meanwhile */
      if (lookup_keyed (text, "read_bytes", &value))
        *out_read += value;
      if (lookup_keyed (text, "write_bytes", &value))
        *out_write += value;
    }
}

static gboolean
read_stats_v2 (const char *dir, CtrdCgroupStats *stats, GError **error)
{
  g_autofree char *cpu_stat = NULL;
  g_autofree char *io_stat = NULL;
  guint64 usage_usec = 0;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND, "No cgroup %s", dir);
      return FALSE;
    }
  cpu_stat = read_cgroup_file (dir, "cpu.stat", error);
  if (cpu_stat == NULL)
    return FALSE;
  lookup_keyed (cpu_stat, "usage_usec", &usage_usec);
  stats->cpu_time_ns = usage_usec * 1000;
  if (!read_cgroup_number (dir, "memory.current", 0, &stats->memory_bytes, error) ||
      !read_cgroup_number (dir, "memory.max", 0, &stats->memory_limit, error) ||
      !read_cgroup_number (dir, "pids.current", 0, &stats->pids, error))
    return FALSE;
  io_stat = read_cgroup_file (dir, "io.stat", NULL);
  if (io_stat != NULL)
    sum_io_stat (io_stat, &stats->block_read_bytes, &stats->block_write_bytes);
  return TRUE;
}

/* v1 reports "no limit" as the largest page-aligned value (0x7FFFFFFFFFFFF000). */
#define V1_UNLIMITED_FLOOR (G_GUINT64_CONSTANT (1) << 62)

static gboolean
read_stats_v1 (const char *root, const char *path, CtrdCgroupStats *stats, GError **error)
{
  g_autofree char *cpuacct = g_build_filename (root, "cpuacct", path, NULL);
  g_autofree char *memory = g_build_filename (root, "memory", path, NULL);
  g_autofree char *pids = g_build_filename (root, "pids", path, NULL);
  g_autofree char *blkio = g_build_filename (root, "blkio", path, NULL);
  g_autofree char *service_bytes = NULL;

  if (!g_file_test (memory, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, CTRD_ERROR, CTRD_ERROR_NOT_FOUND, "No cgroup %s", memory);
      return FALSE;
    }
  if (!read_cgroup_number (cpuacct, "cpuacct.usage", 0, &stats->cpu_time_ns, error) ||
      !read_cgroup_number (memory, "memory.usage_in_bytes", 0, &stats->memory_bytes, error) ||
      !read_cgroup_number (memory, "memory.limit_in_bytes", 0, &stats->memory_limit, error) ||
      !read_cgroup_number (pids, "pids.current", 0, &stats->pids, error))
    return FALSE;
  if (stats->memory_limit >= V1_UNLIMITED_FLOOR)
    stats->memory_limit = 0;
  service_bytes = read_cgroup_file (blkio, "blkio.throttle.io_service_bytes", NULL);
  if (service_bytes != NULL)
    sum_blkio_service_bytes (service_bytes, &stats->block_read_bytes, &stats->block_write_bytes);
  if (stats->block_read_bytes == 0 && stats->block_write_bytes == 0)
    {
      g_autofree char *procs = read_cgroup_file (pids, "cgroup.procs", NULL);

      if (procs != NULL)
        sum_proc_io (procs, &stats->block_read_bytes, &stats->block_write_bytes);
    }
  return TRUE;
}

gboolean
ctrd_cgroup_read_stats (const char *root, const char *path, CtrdCgroupStats *out_stats,
                        GError **error)
{
  CtrdCgroupStats stats = { 0 };

  g_return_val_if_fail (g_path_is_absolute (path), FALSE);
  if (ctrd_cgroup_root_is_unified (root))
    {
      g_autofree char *dir = g_build_filename (root, path, NULL);

      if (!read_stats_v2 (dir, &stats, error))
        return FALSE;
    }
  else if (!read_stats_v1 (root, path, &stats, error))
    return FALSE;
  *out_stats = stats;
  return TRUE;
}
