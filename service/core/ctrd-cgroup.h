/* ctrd-cgroup.h: a container's resource limits and its cgroup's figures, on
 * cgroup v1 (one hierarchy per controller, as on hybrid hosts) and v2 (one
 * unified hierarchy). Plain values; no D-Bus types. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What MemoryLimit, CpuQuota and PidsLimit may be (0 is always "none"). A
 * memory limit under 6 MiB cannot start a runtime (runc's own floor, like
 * podman's); the upper bounds keep the kernel's files meaningful. */
#define CTRD_MIN_MEMORY_LIMIT (G_GUINT64_CONSTANT (6) * 1024 * 1024)
#define CTRD_MAX_MEMORY_LIMIT (G_GUINT64_CONSTANT (1) << 50) /* 1 PiB */
#define CTRD_MIN_CPU_QUOTA 0.01 /* 1 ms per 100 ms period: the kernel's floor */
#define CTRD_MAX_CPU_QUOTA 1024.0
#define CTRD_MAX_PIDS_LIMIT G_GINT64_CONSTANT (4194304) /* the kernel's PID_MAX_LIMIT */
/* The CFS period of every container, in microseconds (runc's and podman's). */
#define CTRD_CPU_PERIOD_USEC 100000

typedef struct
{
  guint64 memory_limit; /* bytes; 0 = none */
  double cpu_quota;     /* CPUs; 0 = none */
  gint64 pids_limit;    /* 0 = none */
} CtrdLimits;

/* INVALID_ARGUMENT naming the option and the accepted range when a value is
 * negative, not finite or out of range; @what prefixes the message ("Container
 * web"). */
gboolean ctrd_limits_validate (const CtrdLimits *limits, const char *what, GError **error);

/* The CFS quota for @cpus CPUs per CTRD_CPU_PERIOD_USEC, in microseconds;
 * 0 for none. */
gint64 ctrd_limits_cpu_quota_usec (double cpus);

/* The cgroup of a container, as the spec's absolute cgroupsPath has it. */
char *ctrd_cgroup_path_for_container (const char *id);

typedef struct
{
  guint64 cpu_time_ns;
  guint64 memory_bytes;
  guint64 memory_limit; /* 0 = none */
  guint64 pids;
  guint64 block_read_bytes;
  guint64 block_write_bytes;
} CtrdCgroupStats;

/* TRUE when @root (normally /sys/fs/cgroup) is a unified (v2) hierarchy. */
gboolean ctrd_cgroup_root_is_unified (const char *root);

/* Reads the figures of the cgroup @path (absolute, like the spec's
 * cgroupsPath) under @root: on v2 cpu.stat, memory.current, memory.max,
 * pids.current and io.stat of @root/@path; on v1 cpuacct.usage,
 * memory.usage_in_bytes, memory.limit_in_bytes, pids.current and
 * blkio.throttle.io_service_bytes of each controller's hierarchy
 * (@root/<controller>/@path). Where v1 counts no block I/O (no throttle rule
 * for the device), the read_bytes and write_bytes of /proc/<pid>/io of the
 * cgroup's processes are summed instead (at most CTRD_CGROUP_MAX_PROCS).
 * NOT_FOUND when the cgroup does not exist; reads small kernel files only. */
#define CTRD_CGROUP_MAX_PROCS 4096
gboolean ctrd_cgroup_read_stats (const char *root, const char *path, CtrdCgroupStats *out_stats,
                                 GError **error);

G_END_DECLS
